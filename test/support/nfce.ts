import { execFileSync } from 'node:child_process';
import { DOMParser } from '@xmldom/xmldom';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type A1Certificate } from '../../functions/nfce/certificate.ts';
import { createTestA1, openA1 } from '../../functions/nfce/pkcs12.ts';
import { buildDocument, type NfceInput, type OrderItem } from '../../functions/nfce/document.ts';
import { catalogSchema, emitterSchema, type Catalog, type Emitter } from '../../functions/nfce/fiscal.ts';
import { validatePaymentRequest, type PaymentRequest } from '../../functions/payments/request.ts';
import { localSecretFile } from '../../functions/shared/secrets.ts';
import { secrets } from '../../lib/manifest.ts';
import { provisionFiscal } from '../../lib/local/fiscal.ts';
import type { LocalRuntime } from '../../lib/local/runtime.ts';
import { fixture } from './fixtures.ts';

export const SCHEMAS = resolve(import.meta.dirname, '../../../shared/nfe-schemas/PL_010e_v1.01');
/** PL_010d's event schemas (envEvento, e110111, e110112, procEventoNFe). */
export const EVENT_SCHEMAS = resolve(import.meta.dirname, '../../../shared/nfe-schemas/PL_010d_v1.02_events');

export const demoEmitter = (): Emitter => emitterSchema.parse(fixture('nfce/demo-emitter.json'));
export const demoCatalog = (): Catalog => catalogSchema.parse(fixture('nfce/demo-catalog.json'));

let certificate: A1Certificate | undefined;
/** One test A1 per test process (RSA key generation takes a few hundred ms). */
export function testCertificate(): A1Certificate {
  certificate ??= openA1(createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password: 'teste' }), 'teste');
  return certificate;
}

/** A valid payment request for `items` (+ fee and discounts), run through the real validation. */
export function paymentFor(
  items: OrderItem[],
  overrides: { fees?: number; discounts?: number; paymentObject?: Partial<PaymentRequest['paymentObject']> } = {},
) {
  const orderAmount = items.reduce((sum, i) => sum + Math.round((i.quantity * i.unitPrice) / 10_000), 0);
  const fees = overrides.fees ?? 0;
  const discounts = overrides.discounts ?? 0;
  const removeServiceFee = overrides.paymentObject?.removeServiceFee ?? false;
  const total = orderAmount + (removeServiceFee ? 0 : fees) - discounts;
  const body = {
    integrationHubServiceId: 'efdd6093-5539-4ac4-ad84-7423a8078dde',
    orderKeyType: 'TABLE',
    orderKey: '7',
    paymentObject: {
      printOrderAtPos: true,
      generateInvoice: true,
      printInvoiceAtPos: true,
      sendInvoiceEmail: false,
      summaryExtract: false,
      customerDocument: null,
      documentInReceipt: false,
      numberPersons: 2,
      removeServiceFee,
      methods: [{ value: total / 100, currency: 'BRL', type: 'OFFLINE', method: 'CREDIT', brand: 'VISA' }],
      orderAmount: orderAmount / 100,
      discounts: discounts / 100,
      fees: fees / 100,
      total: total / 100,
      ...overrides.paymentObject,
    },
  };
  const validation = validatePaymentRequest(body);
  if (!validation.ok) throw new Error(`test payment is invalid: ${JSON.stringify(validation.errors)}`);
  return validation.payment;
}

export function inputFor(
  items: OrderItem[],
  payment = paymentFor(items),
  numbering = { nNF: 1001, cNF: '27182818', dhEmi: '2026-11-22T12:30:00-03:00' },
): NfceInput {
  return {
    emitter: demoEmitter(),
    catalog: demoCatalog(),
    numbering,
    order: { orderKeyType: 'TABLE', orderKey: '7', items },
    payment,
    verProc: 'checkout-test 1.0',
  };
}

export const documentFor = (items: OrderItem[], payment = paymentFor(items)) => buildDocument(inputFor(items, payment));

/** Why xmlsec1 (the signature checks' outside tool) cannot run here, or undefined when it can. */
export function xmlsecMissing(): string | undefined {
  try {
    execFileSync('xmlsec1', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'xmlsec1 is not installed (Debian: xmlsec1)';
  }
}

/**
 * xmlsec1's verdict on a signature, with the certificate it carries: an NFe's (`infNFe/@Id`), an
 * event's (`idElement` 'infEvento') or an inutilização's ('infInut').
 */
export function xmlsecVerifies(
  xml: string,
  certificatePem: string,
  idElement: 'infNFe' | 'infEvento' | 'infInut' = 'infNFe',
): boolean {
  const dir = mkdtempSync(join(tmpdir(), 'nfce-sig-'));
  writeFileSync(join(dir, 'nfe.xml'), xml);
  writeFileSync(join(dir, 'cert.pem'), certificatePem);
  try {
    // Exit status 0 is xmlsec1's "OK": every reference digest and the signature value verified.
    execFileSync(
      'xmlsec1',
      ['--verify', '--pubkey-cert-pem', join(dir, 'cert.pem'), '--id-attr:Id', idElement, join(dir, 'nfe.xml')],
      {
        stdio: 'pipe',
      },
    );
    return true;
  } catch {
    return false;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * The n-th item of a generated order: skus cycling through the demo catalog (and one it lacks),
 * 1–3 units, prices growing with n (centavos; quantities in ten-thousandths).
 */
export const orderItem = (n: number, overrides: Partial<OrderItem> = {}): OrderItem => ({
  sku: ['058', '101', '202', '303', 'SEM-CADASTRO'][n % 5]!,
  name: `Item ${n}`,
  quantity: 10_000 * ((n % 3) + 1),
  unitPrice: 150 + 37 * n,
  unit: 'UN',
  ...overrides,
});
export const orderItems = (count: number) => Array.from({ length: count }, (_, i) => orderItem(i));
/** Σ quantity × unitPrice, rounded per item (centavos), computed apart from the builder. */
export const itemsTotal = (list: OrderItem[]) =>
  list.reduce((sum, i) => sum + Math.round((i.quantity * i.unitPrice) / 10_000), 0);

/**
 * The seed store's fiscal setup on a test stack: the demo emitter and catalog with a self-signed
 * A1 (ALBINO LTDA), its CSC registered with the SEFAZ simulator. Returns the emitter.
 * `offlineContingency: false` keeps a payment waiting for SEFAZ through the queue's retries.
 */
export async function provisionDemoFiscal(
  stack: LocalRuntime,
  integrationHubServiceId: string,
  options: { offlineContingency?: boolean } = {},
): Promise<Emitter> {
  const password = 'senha-teste';
  const emitter = await provisionFiscal(stack.documents, stack.env, stack.sefaz.url, {
    integrationHubServiceId,
    emitter: demoEmitter(),
    catalog: demoCatalog(),
    pfx: createTestA1({ name: 'ALBINO LTDA', cnpj: '82373077000171', password }),
    password,
    ...options,
  });
  stack.registerCsc(emitter.cnpj, emitter.csc);
  return emitter;
}

/** The certificate an integration's A1 secret holds on a test stack (what its documents are signed with), for xmlsec1. */
export function storedCertificatePem(stack: LocalRuntime, integrationHubServiceId: string): string {
  const file = localSecretFile(stack.env.LOCAL_SECRETS_DIR!, `${secrets.nfce.prefix}${integrationHubServiceId}`);
  return (JSON.parse(readFileSync(file, 'utf8')) as { certificatePem: string }).certificatePem;
}

/** The first xmldsig `Signature` element of a signed XML (an NFe, an event, an inutilização), for xml-crypto's verifier. */
export const signatureOf = (xml: string) =>
  new DOMParser().parseFromString(xml, 'text/xml').getElementsByTagNameNS('http://www.w3.org/2000/09/xmldsig#', 'Signature')[0]!;
