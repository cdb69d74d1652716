import { clientTls, FiscalSetupProblem, type FiscalConfig, type FiscalSetup } from './config.ts';
import { sefazServiceUrl } from './fiscal.ts';
import { inutilizacaoRequest, numberRanges, procInutNFe, type InutilizacaoAnswer } from './inutilizacao.ts';
import type { DocumentStore } from './issuer.ts';
import type { Gap, GapRegister } from './numbering.ts';
import { SefazUnavailable, type AuthorizationAnswer, type ClientTls } from './sefaz.ts';

/**
 * The inutilização job (`nfceInutilizacao`, daily; spec nfce-2026.md §5): every skipped number
 * recorded as a gap is declared unused at SEFAZ (NFeInutilizacao4), long before the 10th of the
 * following month, after which SEFAZ presumes it issued in contingency and not transmitted.
 *
 * A number for which a document was ever built is first queried by each of its keys: one that
 * exists at SEFAZ (authorized, or cancelled) is never declared — the gap becomes USED. The rest are
 * merged into ranges per CNPJ, série and year, signed with the CNPJ's A1 and sent: 102 → the
 * ProcInutNFe stored and the gaps DECLARED; 241 (a number of the range was used: SEFAZ's own guard)
 * or 256 (part of it already declared) on a range of several numbers → each number alone; alone,
 * 241 → USED, 256 → DECLARED (an earlier answer was lost); any other refusal → REFUSED, for an
 * operator. SEFAZ not answering ends the run; the next one goes on. Idempotent: every gap moves
 * only from PENDING.
 */

export interface InutilizacaoDeps {
  gaps: GapRegister;
  /** The integration whose fiscal setup holds this CNPJ's A1 (any of them: the certificate is the CNPJ's). */
  integrationFor: (cnpj: string) => Promise<string | undefined>;
  fiscal: Pick<FiscalConfig, 'load'>;
  documents: DocumentStore;
  consultProtocol: (url: string, chave: string, tpAmb: 1 | 2, tls: ClientTls) => Promise<AuthorizationAnswer>;
  inutilizar: (url: string, inutXml: string, tls: ClientTls) => Promise<InutilizacaoAnswer>;
  now: () => Date;
  hasTime: () => boolean;
  log: { info(message: string, extra?: object): void; warn(message: string, extra?: object): void };
}

export interface InutilizacaoOutcome {
  /** Numbers declared unused, found used, refused, and left for the next run. */
  declared: number;
  used: number;
  refused: number;
  waiting: number;
}

const XJUST = 'Numeracao de NFC-e nao utilizada: rejeicao ou falha na emissao do documento';
/** Statuses of a key that exists at SEFAZ: authorized (100, 150) or cancelled (101, 151, 155). */
const EXISTS = new Set(['100', '101', '150', '151', '155']);
const NOT_FOUND = '217';
const INUTILIZED = '102';
const USED_IN_RANGE = '241';
const ALREADY_INUTILIZED = '256';
/** SEFAZ's "not now" (service paused, too many calls): never a refusal. */
const NOT_NOW = new Set(['108', '109', '656']);

/**
 * The last day to declare a number skipped in `yearMonth` (`YYYY-MM`): the 10th of the following
 * month, 23:59:59 `-03:00` (from the 11th SEFAZ presumes it issued in contingency; spec §5).
 */
export function inutilizacaoDeadline(yearMonth: string): string {
  const [year, month] = yearMonth.split('-').map(Number) as [number, number];
  const next = month === 12 ? `${year + 1}-01` : `${year}-${String(month + 1).padStart(2, '0')}`;
  return `${next}-10T23:59:59-03:00`;
}

/** The month a gap's number belongs to (`YYYY-MM`): its documents' (the key's AAMM), else when it was recorded. */
export function gapMonth(gap: Pick<Gap, 'chaves' | 'at'>, now: Date): string {
  const chave = gap.chaves?.[0];
  if (chave) return `20${chave.slice(2, 4)}-${chave.slice(4, 6)}`;
  return (gap.at ?? new Date(now.getTime() - 3 * 3600_000).toISOString()).slice(0, 7);
}

/** One run over every pending gap (read `batch` at a time, while there is time). */
export async function declareGaps(deps: InutilizacaoDeps, batch = 500): Promise<InutilizacaoOutcome> {
  const outcome: InutilizacaoOutcome = { declared: 0, used: 0, refused: 0, waiting: 0 };
  // Every page: gaps of a CNPJ that cannot be signed for now never hide the others.
  const gaps: Gap[] = [];
  let after: Record<string, unknown> | undefined;
  do {
    const page = await deps.gaps.gaps('PENDING', batch, after);
    gaps.push(...page.gaps);
    after = page.next;
  } while (after && deps.hasTime());
  const setups = new Map<string, FiscalSetup | undefined>();
  const setupFor = async (cnpj: string) => {
    if (!setups.has(cnpj)) setups.set(cnpj, await loadSetup(cnpj, deps));
    return setups.get(cnpj);
  };

  // First the keys: a number whose document exists at SEFAZ is never declared.
  const clear: Gap[] = [];
  let away = false;
  for (const gap of gaps) {
    const setup = await setupFor(gap.cnpj);
    if (!setup || away || !deps.hasTime()) {
      outcome.waiting++;
      continue;
    }
    const found = await existing(gap, setup, deps);
    if (found === 'away') {
      away = true;
      outcome.waiting++;
    } else if (found === 'unclear') outcome.waiting++;
    else if (found) {
      if (await deps.gaps.settleGap(gap, 'PENDING', 'USED', { usedBy: found })) outcome.used++;
      deps.log.warn('a recorded gap exists at SEFAZ: never declared unused', { cnpj: gap.cnpj, serie: gap.serie, nNF: gap.nNF });
    } else clear.push(gap);
  }

  const groups = new Map<string, Gap[]>();
  for (const gap of clear) {
    const group = `${gap.cnpj}|${gap.serie}|${gapMonth(gap, deps.now()).slice(2, 4)}`;
    groups.set(group, [...(groups.get(group) ?? []), gap]);
  }
  for (const [group, members] of groups) {
    const [cnpj, serieText, ano] = group.split('|') as [string, string, string];
    const serie = Number(serieText);
    const setup = (await setupFor(cnpj))!;
    const queue = numberRanges(members.map((g) => g.nNF));
    while (queue.length > 0) {
      const range = queue.shift()!;
      const inRange = members.filter((g) => g.nNF >= range.from && g.nNF <= range.to);
      if (away || !deps.hasTime()) {
        outcome.waiting += inRange.length;
        continue;
      }
      let sent: { request: string; answer: InutilizacaoAnswer };
      try {
        sent = await send(setup, { serie, ano, ...range }, deps);
      } catch (error) {
        if (!(error instanceof SefazUnavailable)) throw error;
        deps.log.warn('SEFAZ unavailable for the inutilização; the next run goes on', { reason: error.message });
        away = true;
        outcome.waiting += inRange.length;
        continue;
      }
      const { answer } = sent;
      if (NOT_NOW.has(answer.cStat)) {
        // Paused or busy: not a refusal; the next run goes on.
        deps.log.warn('SEFAZ cannot take the inutilização now; the next run goes on', { cStat: answer.cStat });
        away = true;
        outcome.waiting += inRange.length;
        continue;
      }
      const single = range.from === range.to;
      if (!single && (answer.cStat === USED_IN_RANGE || answer.cStat === ALREADY_INUTILIZED)) {
        // Which number? Each alone says.
        for (let n = range.to; n >= range.from; n--) queue.unshift({ from: n, to: n });
        continue;
      }
      if (answer.cStat === INUTILIZED) {
        const procKey = `inutilizacao/${cnpj}/${String(serie).padStart(3, '0')}/20${ano}/${range.from}-${range.to}.xml`;
        await deps.documents.put(procKey, procInutNFe(sent.request, answer.xml), 'application/xml');
        for (const gap of inRange) {
          if (await deps.gaps.settleGap(gap, 'PENDING', 'DECLARED', { nProt: answer.nProt, procKey })) outcome.declared++;
        }
        deps.log.info('numbers declared unused', { cnpj, serie, from: range.from, to: range.to });
      } else if (answer.cStat === ALREADY_INUTILIZED) {
        if (await deps.gaps.settleGap(inRange[0]!, 'PENDING', 'DECLARED', {})) outcome.declared++;
      } else if (answer.cStat === USED_IN_RANGE) {
        if (await deps.gaps.settleGap(inRange[0]!, 'PENDING', 'USED', { usedBy: `SEFAZ ${answer.cStat} ${answer.xMotivo}` }))
          outcome.used++;
      } else {
        const refusal = { cStat: answer.cStat, xMotivo: answer.xMotivo };
        for (const gap of inRange) if (await deps.gaps.settleGap(gap, 'PENDING', 'REFUSED', { refusal })) outcome.refused++;
        deps.log.warn('SEFAZ refused an inutilização; an operator must act', {
          cnpj,
          from: range.from,
          to: range.to,
          ...refusal,
        });
      }
    }
  }
  return outcome;
}

/** Signs and sends the inutilização of `from`–`to` of the série and year; the signed request with SEFAZ's answer. */
async function send(
  setup: FiscalSetup,
  numbers: { serie: number; ano: string; from: number; to: number },
  deps: InutilizacaoDeps,
): Promise<{ request: string; answer: InutilizacaoAnswer }> {
  const { emitter } = setup;
  const request = inutilizacaoRequest(
    {
      cnpj: emitter.cnpj,
      uf: emitter.address.uf,
      tpAmb: emitter.tpAmb,
      ano: numbers.ano,
      serie: numbers.serie,
      nNFIni: numbers.from,
      nNFFin: numbers.to,
      xJust: XJUST,
    },
    setup.certificate,
  );
  const answer = await deps.inutilizar(sefazServiceUrl(emitter, 'inutilizacao'), request.xml, clientTls(setup));
  return { request: request.xml, answer };
}

/** The key of this gap's number that exists at SEFAZ; false when none; 'away' / 'unclear' when SEFAZ cannot say. */
async function existing(gap: Gap, setup: FiscalSetup, deps: InutilizacaoDeps): Promise<string | false | 'away' | 'unclear'> {
  for (const chave of gap.chaves ?? []) {
    let answer: AuthorizationAnswer;
    try {
      answer = await deps.consultProtocol(
        sefazServiceUrl(setup.emitter, 'consultaProtocolo'),
        chave,
        setup.emitter.tpAmb,
        clientTls(setup),
      );
    } catch (error) {
      if (error instanceof SefazUnavailable) return 'away';
      throw error;
    }
    if (EXISTS.has(answer.cStat) || (answer.protocol && EXISTS.has(answer.protocol.cStat))) return chave;
    if (answer.cStat !== NOT_FOUND) {
      deps.log.warn('SEFAZ could not say whether a gap’s key exists; left for the next run', { chave, cStat: answer.cStat });
      return 'unclear';
    }
  }
  return false;
}

async function loadSetup(cnpj: string, deps: InutilizacaoDeps): Promise<FiscalSetup | undefined> {
  const integration = await deps.integrationFor(cnpj);
  if (!integration) {
    deps.log.warn('gaps of a CNPJ no integration holds: nothing can sign their inutilização', { cnpj });
    return undefined;
  }
  try {
    return await deps.fiscal.load(integration);
  } catch (error) {
    if (!(error instanceof FiscalSetupProblem)) throw error;
    deps.log.warn('gaps wait: the fiscal setup of their CNPJ is unusable', { cnpj, reason: error.message });
    return undefined;
  }
}
