import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestA1 } from '../../functions/nfce/pkcs12.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { envName, localName, secrets, tables } from '../../lib/manifest.ts';
import { startEmulators, type Emulators } from '../../lib/local/emulators.ts';
import { pointEmittersAt, provisionFiscal, storedCscs } from '../../lib/local/fiscal.ts';
import { localClients, provision } from '../../lib/local/provision.ts';
import { demoCatalog, demoEmitter } from '../support/nfce.ts';

/** Local fiscal setups across restarts: the SEFAZ simulator gets a new port on every start. */
let emulators: Emulators;
let db: DynamoDBDocumentClient;
const secretsDir = mkdtempSync(join(tmpdir(), 'checkout-fiscal-'));
const env = { [envName.table('integrations')]: localName.table('integrations'), LOCAL_SECRETS_DIR: secretsDir };
const ids = ['0a1b2c3d-0000-4000-8000-000000000001', '0a1b2c3d-0000-4000-8000-000000000002'];

beforeAll(async () => {
  emulators = await startEmulators();
  const clients = localClients(emulators);
  await provision(clients, { tables: { integrations: tables.integrations }, queues: {}, buckets: {} });
  db = DynamoDBDocumentClient.from(clients.dynamodb);
  for (const id of ids) {
    await provisionFiscal(db, env, 'http://127.0.0.1:35799', {
      integrationHubServiceId: id,
      emitter: demoEmitter(),
      catalog: demoCatalog(),
      pfx: createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: 'x' }),
      password: 'x',
    });
  }
});
afterAll(async () => {
  await emulators?.close();
  rmSync(secretsDir, { recursive: true, force: true });
});

describe('after a restart', () => {
  it('every stored emitter is pointed at this run’s simulator, its QR code URLs kept', async () => {
    expect(await pointEmittersAt(db, env, 'http://127.0.0.1:35763')).toBe(2);
    for (const id of ids) {
      const { Item } = await db.send(new GetCommand({ TableName: localName.table('integrations'), Key: { pk: `FISCAL#${id}` } }));
      expect(Item!.emitter.urls).toEqual({
        ...demoEmitter().urls,
        autorizacao: 'http://127.0.0.1:35763/ws/NFeAutorizacao4.asmx',
        statusServico: 'http://127.0.0.1:35763/ws/NFeStatusServico4.asmx',
        consultaProtocolo: 'http://127.0.0.1:35763/ws/NFeConsultaProtocolo4.asmx',
        recepcaoEvento: 'http://127.0.0.1:35763/ws/NFeRecepcaoEvento4.asmx',
        inutilizacao: 'http://127.0.0.1:35763/ws/NFeInutilizacao4.asmx',
      });
    }
  });

  it('an emitter whose secret file is gone is skipped, not a crash at boot', async () => {
    rmSync(localSecretFile(secretsDir, `${secrets.nfce.prefix}${ids[1]}`));
    const cscs = await storedCscs(db, env);
    expect([...cscs.entries()]).toEqual([['82373077000171', demoEmitter().csc]]);
  });
});
