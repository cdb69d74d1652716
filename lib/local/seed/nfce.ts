import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { createTestA1 } from '../../../functions/nfce/pkcs12.ts';
import { catalogSchema, emitterSchema } from '../../../functions/nfce/fiscal.ts';
import { pointEmittersAt, provisionFiscal, storedCscs } from '../fiscal.ts';
import { projectRoot } from '../invoke.ts';
import type { LocalRuntime } from '../runtime.ts';
import { DEMO_INTEGRATION } from './auth.ts';

const readJson = (path: string): unknown => JSON.parse(readFileSync(resolve(projectRoot, path), 'utf8'));

/** The demo store's self-signed stand-in for an A1 certificate, under `localDir` (the Sicoob demo account uses it too). */
export const DEMO_A1 = { file: 'demo-a1.p12', password: 'demo-local-only' } as const;

/**
 * The NFC-e step of `npm start`, before any payment is re-queued: every stored emitter pointed at
 * this run's SEFAZ (the simulator's new port, or SEFAZ_URL), the demo store's fiscal setup (the
 * seed's emitter ALBINO LTDA, CRT 3, CSC id 3, and a self-signed stand-in for its A1, generated
 * once under `localDir` — never a real certificate), and every local emitter's CSC registered with
 * the simulator, which checks QR codes with it.
 */
export async function seedNfce(runtime: LocalRuntime, localDir: string) {
  const sefazUrl = runtime.partnerUrls.sefaz;
  await pointEmittersAt(runtime.documents, runtime.env, sefazUrl);
  const certificateFile = resolve(localDir, DEMO_A1.file);
  const password = DEMO_A1.password;
  if (!existsSync(certificateFile)) {
    writeFileSync(certificateFile, createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password }), { mode: 0o600 });
  }
  const emitter = await provisionFiscal(runtime.documents, runtime.env, sefazUrl, {
    integrationHubServiceId: DEMO_INTEGRATION,
    emitter: emitterSchema.parse(readJson('fixtures/nfce/demo-emitter.json')),
    catalog: catalogSchema.parse(readJson('fixtures/nfce/demo-catalog.json')),
    pfx: readFileSync(certificateFile),
    password,
  });
  // Integrations provisioned with `npm run integration -- fiscal --local`, the demo's among them.
  for (const [cnpj, csc] of await storedCscs(runtime.documents, runtime.env)) runtime.registerCsc(cnpj, csc);
  return { sefaz: { url: sefazUrl, autorizacao: emitter.urls.autorizacao, statusServico: emitter.urls.statusServico } };
}
