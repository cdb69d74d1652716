import { BatchGetCommand, GetCommand, PutCommand, QueryCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { unlessConditionFails } from '../shared/conditional.ts';
import type { Boleto, BoletoStatus } from './boleto.ts';

/**
 * The boletos table: every boleto (`B#<numeroCliente>#<nossoNumero>`, written whole with optimistic
 * concurrency), the sweep's checkpoints (`W#<numeroCliente>#<dataInicial>` per window,
 * `F#<numeroCliente>#<codigoSolicitacao>#<idArquivo>` per file, `CURSOR#<numeroCliente>`), the
 * reconciliation exceptions (`X#<key>`), and the Sicoob accounts (`ACCOUNT#<numeroCliente>`).
 * Sparse indexes on boletos: `byDate` and `byStatus` (sorted by the day finance reads —
 * dataLiquidacao, or dataVencimento while unpaid), `bySeuNumero`, `byNossoNumero`; `exceptions`
 * on the exceptions, oldest first.
 */

/** A record or notice that names no boleto of ours, or contradicts one: finance reviews it. */
export interface ReconciliationException {
  /** Idempotency key: the same record in the next report, or the same notice again, is the same exception. */
  key: string;
  kind: 'unmatched-liquidation' | 'ambiguous-liquidation' | 'conflicting-liquidation' | 'unmatched-notice' | 'ambiguous-notice';
  numeroCliente: string;
  nossoNumero?: string;
  seuNumero?: string;
  /** centavos */
  valor?: number;
  /** `yyyy-MM-dd` */
  data?: string;
  detail: string;
  /** Where it came from (file and record, or webhook notice). */
  source: string;
  /** `-03:00` */
  at: string;
}

/** One window of the sweep: its current report and where that report stands. */
export interface WindowState {
  numeroCliente: string;
  dataInicial: string;
  dataFinal: string;
  /** DONE: closed, and a report requested after its close applied. */
  done: boolean;
  report?: {
    codigoSolicitacao: string;
    /** ISO */
    requestedAt: string;
    idArquivos?: string[];
    total?: number;
    /** ISO: every file applied. */
    appliedAt?: string;
  };
  /** Reports applied in this window, for the record. */
  reportsApplied: number;
  problem?: string;
  updatedAt: string;
  version: number;
}

/** One file of a report, applied record by record; `nextRecord` is where a resumed run goes on. */
export interface FileState {
  numeroCliente: string;
  codigoSolicitacao: string;
  idArquivo: string;
  dataInicial: string;
  state: 'PENDING' | 'APPLIED' | 'FAULTY';
  nextRecord: number;
  /** ISO: the run applying it holds it until then. */
  claimedUntil?: string;
  counts: { applied: number; alreadyApplied: number; unmatched: number; conflicting: number; other: number; invalid: number };
  archiveKey?: string;
  problem?: string;
  updatedAt: string;
  version: number;
}

/** A Sicoob account of the platform; its certificate is the secret `checkout/sicoob/<numeroCliente>`. */
export interface AccountSettings {
  numeroCliente: string;
  clientId: string;
}

export interface BoletoStore {
  get(numeroCliente: string, nossoNumero: string): Promise<Boleto | undefined>;
  /** The contract's boletos with these numbers, read consistently, by nossoNumero (absent: not in the map). */
  getMany(numeroCliente: string, nossoNumeros: readonly string[]): Promise<Map<string, Boleto>>;
  /** Writes if nobody wrote since `version` (0: a new boleto); false otherwise. */
  save(boleto: Boleto): Promise<boolean>;
  /** Boletos of the contract with this seuNumero (index: eventually consistent). */
  bySeuNumero(numeroCliente: string, seuNumero: string): Promise<Boleto[]>;
  /** Boletos with this nosso número, in every contract. */
  byNossoNumero(nossoNumero: string): Promise<Boleto[]>;
  /** A page of boletos, by status or all, whose listing day (`yyyy-MM-dd`) is within from…to, oldest first. */
  list(query: {
    status?: BoletoStatus;
    from?: string;
    to?: string;
    cursor?: string;
    limit: number;
  }): Promise<{ items: Boleto[]; cursor?: string }>;
  /** Records the exception unless one with its key exists; true when it is new. */
  putException(exception: ReconciliationException): Promise<boolean>;
  exceptions(query: { cursor?: string; limit: number }): Promise<{ items: ReconciliationException[]; cursor?: string }>;
}

export interface SweepStore {
  accounts(): Promise<AccountSettings[]>;
  /** The last day (`dataFinal`) up to which every window is done. */
  cursor(numeroCliente: string): Promise<string | undefined>;
  /** Moves the cursor forward only (a slower run never moves it back). */
  advanceCursor(numeroCliente: string, doneThrough: string): Promise<void>;
  window(numeroCliente: string, dataInicial: string): Promise<WindowState | undefined>;
  saveWindow(window: WindowState): Promise<boolean>;
  file(numeroCliente: string, codigoSolicitacao: string, idArquivo: string): Promise<FileState | undefined>;
  saveFile(file: FileState): Promise<boolean>;
}

/** The day a boleto is listed and exported under: its liquidation day, or its due day while unpaid. */
export function listingDay(boleto: Pick<Boleto, 'liquidacao' | 'dataVencimento'>): string {
  return boleto.liquidacao?.dataLiquidacao ?? boleto.dataVencimento;
}

const boletoPk = (numeroCliente: string, nossoNumero: string) => `B#${numeroCliente}#${nossoNumero}`;
const INDEX_FIELDS = ['pk', 'listKind', 'listDay', 'statusKey', 'seuKey', 'nossoKey', 'exceptionKind', 'exceptionAt'];

export class DynamoBoletos implements BoletoStore, SweepStore {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  async get(numeroCliente: string, nossoNumero: string): Promise<Boleto | undefined> {
    return this.item<Boleto>(boletoPk(numeroCliente, nossoNumero));
  }

  async getMany(numeroCliente: string, nossoNumeros: readonly string[]): Promise<Map<string, Boleto>> {
    const found = new Map<string, Boleto>();
    const unique = [...new Set(nossoNumeros)];
    // BatchGetItem takes 100 keys; the keys it leaves (throttled) are asked again after a pause.
    for (let start = 0; start < unique.length; start += 100) {
      let keys: Record<string, unknown>[] = unique.slice(start, start + 100).map((n) => ({ pk: boletoPk(numeroCliente, n) }));
      for (let round = 0; keys.length > 0; round++) {
        if (round > 0) await new Promise((resolve) => setTimeout(resolve, Math.random() * 10 * 2 ** Math.min(round, 6)));
        const { Responses, UnprocessedKeys } = await this.db.send(
          new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of Responses?.[this.tableName] ?? []) {
          const boleto = strip(item) as unknown as Boleto;
          found.set(boleto.nossoNumero, boleto);
        }
        keys = UnprocessedKeys?.[this.tableName]?.Keys ?? [];
      }
    }
    return found;
  }

  async save(boleto: Boleto): Promise<boolean> {
    const day = listingDay(boleto);
    return this.put(
      {
        ...boleto,
        pk: boletoPk(boleto.numeroCliente, boleto.nossoNumero),
        listKind: 'BOLETO',
        listDay: `${day}#${boleto.numeroCliente}#${boleto.nossoNumero}`,
        statusKey: boleto.status,
        seuKey: `${boleto.numeroCliente}#${boleto.seuNumero}`,
        nossoKey: boleto.nossoNumero,
      },
      boleto.version,
    );
  }

  async bySeuNumero(numeroCliente: string, seuNumero: string): Promise<Boleto[]> {
    return this.query<Boleto>('bySeuNumero', 'seuKey = :key', { ':key': `${numeroCliente}#${seuNumero}` }, 10).then(
      (r) => r.items,
    );
  }

  async byNossoNumero(nossoNumero: string): Promise<Boleto[]> {
    return this.query<Boleto>('byNossoNumero', 'nossoKey = :key', { ':key': nossoNumero }, 20).then((r) => r.items);
  }

  async list(query: { status?: BoletoStatus; from?: string; to?: string; cursor?: string; limit: number }) {
    // listDay is `<day>#…`: a day range is a key range (`~` sorts after every digit and `#`).
    const range = { ':from': query.from ?? '0000', ':to': `${query.to ?? '9999'}~` };
    return query.status
      ? this.query<Boleto>(
          'byStatus',
          'statusKey = :status AND listDay BETWEEN :from AND :to',
          { ':status': query.status, ...range },
          query.limit,
          query.cursor,
        )
      : this.query<Boleto>(
          'byDate',
          'listKind = :kind AND listDay BETWEEN :from AND :to',
          { ':kind': 'BOLETO', ...range },
          query.limit,
          query.cursor,
        );
  }

  async putException(exception: ReconciliationException): Promise<boolean> {
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...exception,
            pk: `X#${exception.key}`,
            exceptionKind: 'EXCEPTION',
            exceptionAt: `${exception.at}#${exception.key}`,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      ),
    );
    return written !== undefined;
  }

  async exceptions(query: { cursor?: string; limit: number }) {
    return this.query<ReconciliationException>(
      'exceptions',
      'exceptionKind = :kind',
      { ':kind': 'EXCEPTION' },
      query.limit,
      query.cursor,
    );
  }

  async accounts(): Promise<AccountSettings[]> {
    const found: AccountSettings[] = [];
    // A handful of accounts: one item each, found by their key prefix in the accounts list item.
    const list = await this.item<{ numerosCliente: string[] }>('ACCOUNTS');
    for (const numeroCliente of list?.numerosCliente ?? []) {
      const account = await this.item<AccountSettings>(`ACCOUNT#${numeroCliente}`);
      if (account) found.push({ numeroCliente: account.numeroCliente, clientId: account.clientId });
    }
    return found;
  }

  /** Adds (or replaces) an account: `npm start`'s seed and the CLI. */
  async putAccount(account: AccountSettings): Promise<void> {
    await this.db.send(
      new PutCommand({ TableName: this.tableName, Item: { pk: `ACCOUNT#${account.numeroCliente}`, ...account } }),
    );
    const list = await this.item<{ numerosCliente: string[] }>('ACCOUNTS');
    const numeros = [...new Set([...(list?.numerosCliente ?? []), account.numeroCliente])].sort();
    await this.db.send(new PutCommand({ TableName: this.tableName, Item: { pk: 'ACCOUNTS', numerosCliente: numeros } }));
  }

  async cursor(numeroCliente: string): Promise<string | undefined> {
    return (await this.item<{ doneThrough: string }>(`CURSOR#${numeroCliente}`))?.doneThrough;
  }

  async advanceCursor(numeroCliente: string, doneThrough: string): Promise<void> {
    await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { pk: `CURSOR#${numeroCliente}`, doneThrough },
          ConditionExpression: 'attribute_not_exists(pk) OR doneThrough < :day',
          ExpressionAttributeValues: { ':day': doneThrough },
        }),
      ),
    );
  }

  async window(numeroCliente: string, dataInicial: string): Promise<WindowState | undefined> {
    return this.item<WindowState>(`W#${numeroCliente}#${dataInicial}`);
  }

  async saveWindow(window: WindowState): Promise<boolean> {
    return this.put({ ...window, pk: `W#${window.numeroCliente}#${window.dataInicial}` }, window.version);
  }

  async file(numeroCliente: string, codigoSolicitacao: string, idArquivo: string): Promise<FileState | undefined> {
    return this.item<FileState>(`F#${numeroCliente}#${codigoSolicitacao}#${idArquivo}`);
  }

  async saveFile(file: FileState): Promise<boolean> {
    return this.put({ ...file, pk: `F#${file.numeroCliente}#${file.codigoSolicitacao}#${file.idArquivo}` }, file.version);
  }

  private async item<T>(pk: string): Promise<T | undefined> {
    const { Item } = await this.db.send(new GetCommand({ TableName: this.tableName, Key: { pk }, ConsistentRead: true }));
    return Item ? (strip(Item) as T) : undefined;
  }

  /** A versioned put: version 0 creates, any other replaces that version only. */
  private async put(item: Record<string, unknown> & { version: number }, version: number): Promise<boolean> {
    const written = await unlessConditionFails(() =>
      this.db.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...item, version: version + 1 },
          ...(version === 0
            ? { ConditionExpression: 'attribute_not_exists(pk)' }
            : { ConditionExpression: 'version = :version', ExpressionAttributeValues: { ':version': version } }),
        }),
      ),
    );
    return written !== undefined;
  }

  private async query<T>(index: string, condition: string, values: Record<string, unknown>, limit: number, cursor?: string) {
    const { Items, LastEvaluatedKey } = await this.db.send(
      new QueryCommand({
        TableName: this.tableName,
        IndexName: index,
        KeyConditionExpression: condition,
        ExpressionAttributeValues: values,
        Limit: limit,
        ...(cursor
          ? { ExclusiveStartKey: JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Record<string, unknown> }
          : {}),
      }),
    );
    return {
      items: (Items ?? []).map((item) => strip(item) as T),
      ...(LastEvaluatedKey ? { cursor: Buffer.from(JSON.stringify(LastEvaluatedKey), 'utf8').toString('base64url') } : {}),
    };
  }
}

function strip(item: Record<string, unknown>): Record<string, unknown> {
  const out = { ...item };
  for (const field of INDEX_FIELDS) delete out[field];
  return out;
}
