import * as z from 'zod';
import { parseTaxDocument } from '../shared/documents.ts';
import { identifier, nfceText } from '../shared/text.ts';
import { ibsCbsClassSchema, ibsCbsConfigSchema } from './ibs-cbs.ts';

/**
 * Per-integration fiscal configuration: the emitter (the store's company) and its catalog, which
 * turns an order item's sku into the NFC-e's tax fields. Validated whenever it is loaded.
 */

const digits = (length: number) => z.string().regex(new RegExp(`^\\d{${length}}$`), { message: `must be ${length} digits` });
const percent = z.number().min(0).max(100);

export const UF_CODES = {
  RO: '11',
  AC: '12',
  AM: '13',
  RR: '14',
  PA: '15',
  AP: '16',
  TO: '17',
  MA: '21',
  PI: '22',
  CE: '23',
  RN: '24',
  PB: '25',
  PE: '26',
  AL: '27',
  SE: '28',
  BA: '29',
  MG: '31',
  ES: '32',
  RJ: '33',
  SP: '35',
  PR: '41',
  SC: '42',
  RS: '43',
  MS: '50',
  MT: '51',
  GO: '52',
  DF: '53',
} as const;

const icms = z.discriminatedUnion('cst', [
  z.object({ cst: z.literal('00'), pICMS: percent }),
  z.object({ cst: z.literal('20'), pICMS: percent, pRedBC: percent }),
  z.object({ cst: z.literal('40') }),
  z.object({ cst: z.literal('41') }),
  z.object({ cst: z.literal('60') }),
  z.object({ cst: z.literal('102') }),
  z.object({ cst: z.literal('500') }),
]);
export type IcmsRule = z.infer<typeof icms>;

/**
 * ICMS codes of goods under tax substitution (ICMS-ST): an NFC-e item with one of them carries its
 * `CEST` (Convênio ICMS 142/2018; NT 2015.003; SEFAZ rejection 806 otherwise). The catalog accepts
 * 60 and 500 among them today; the others are listed so a CST added later is covered too.
 */
export const ICMS_ST_CODES: ReadonlySet<string> = new Set(['10', '30', '60', '70', '90', '201', '202', '203', '500', '900']);

/** PIS and COFINS: taxed at a rate (01, 02), not taxed (04–09), or other (49–99) at a rate. */
const pisCofins = z.object({
  cst: z.enum(['01', '02', '04', '05', '06', '07', '08', '09', '49', '99']),
  rate: percent.default(0),
});
export type PisCofinsRule = z.infer<typeof pisCofins>;

const taxProfileShape = z.object({
  ncm: digits(8),
  /**
   * CEST (Código Especificador da Substituição Tributária, Convênio ICMS 142/2018), 7 digits
   * without dots (`03.021.00` → `0302100`): written right after NCM. Required when the item's ICMS
   * is a substitution code ({@link ICMS_ST_CODES}); allowed on any item.
   */
  cest: digits(7).optional(),
  cfop: z.string().regex(/^5\d{3}$/, { message: 'must be a CFOP for an operation inside the state (5xxx)' }),
  /** Origin of the goods (0 national … 8). */
  origin: z.number().int().min(0).max(8),
  icms,
  pis: pisCofins,
  cofins: pisCofins,
  cBenef: z.string().min(8).max(10).optional(),
  /** Approximate tax burden for Lei 12.741/2012 (IBPT table), in percent of the item's value. */
  approximateTax: z.object({ federal: percent, state: percent, municipal: percent }),
  /** IBS/CBS class of this item (ibs-cbs.ts); absent: the catalog's `ibsCbs.default`, else `000` / `000001`. */
  ibsCbs: ibsCbsClassSchema.optional(),
});

/** An ICMS-ST item without CEST is refused with the catalog, not at the sale (SEFAZ would answer 806). */
function stNeedsCest(profile: { icms: IcmsRule; cest?: string | undefined }, ctx: z.core.$RefinementCtx): void {
  if (ICMS_ST_CODES.has(profile.icms.cst) && profile.cest === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['cest'],
      message: `is required: ICMS ${profile.icms.cst} is a tax-substitution (ICMS-ST) code, and SEFAZ refuses such an item without its 7-digit CEST (rejection 806)`,
    });
  }
}

export const taxProfileSchema = taxProfileShape.superRefine(stNeedsCest);
export type TaxProfile = z.infer<typeof taxProfileSchema>;

export const catalogSchema = z.object({
  /** Used for an sku missing from `items` (the NFC-e is still issued; a warning is logged). */
  default: taxProfileSchema,
  /** The service fee's line: its code and description become cProd and xProd, so an order item's sku and name rules apply. */
  serviceFee: taxProfileShape
    .extend({ code: identifier(60), description: nfceText({ max: 120, required: true }) })
    .superRefine(stNeedsCest),
  items: z.record(z.string().min(1).max(60), taxProfileSchema),
  /** IBS/CBS settings of this integration (ibs-cbs.ts); absent or partial: the defaults there. */
  ibsCbs: ibsCbsConfigSchema.optional(),
});
export type Catalog = z.infer<typeof catalogSchema>;

/**
 * A CNPJ as the NFC-e carries it (`TCnpj` of PL_010e): 14 digits, or — alphanumeric CNPJ, IN RFB
 * 2.229/2024, NT 2026.004 — 12 digits or upper-case letters and 2 numeric check digits, the check
 * digits right (mod 11, each character counting as its ASCII code − 48; shared/documents.ts).
 */
const cnpj = z
  .string()
  .regex(/^[0-9A-Z]{12}\d{2}$/, { message: 'must be 14 characters: 12 digits or upper-case letters, then 2 digits' })
  .refine((value) => parseTaxDocument(value)?.kind === 'CNPJ', { message: 'has wrong check digits' });

export const emitterSchema = z.object({
  cnpj,
  ie: z.string().regex(/^(\d{2,14}|ISENTO)$/),
  im: z.string().min(1).max(15).optional(),
  cnae: digits(7).optional(),
  /** Regime: 1 Simples Nacional, 2 Simples with excess, 3 normal, 4 MEI. */
  crt: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]),
  name: z.string().min(2).max(60),
  tradeName: z.string().min(1).max(60).optional(),
  address: z.object({
    street: z.string().min(2).max(60),
    number: z.string().min(1).max(60),
    complement: z.string().min(1).max(60).optional(),
    district: z.string().min(2).max(60),
    cityCode: digits(7),
    city: z.string().min(2).max(60),
    uf: z.enum(Object.keys(UF_CODES) as [keyof typeof UF_CODES, ...(keyof typeof UF_CODES)[]]),
    cep: digits(8),
    phone: z
      .string()
      .regex(/^\d{6,14}$/)
      .optional(),
  }),
  serie: z.number().int().min(0).max(889),
  /** 1 production, 2 homologation (the default: nothing is fiscal until someone says so). */
  tpAmb: z.union([z.literal(1), z.literal(2)]).default(2),
  csc: z.object({ id: z.string().regex(/^\d{1,6}$/), token: z.string().min(16).max(36) }),
  urls: z.object({
    qrCode: z.url(),
    urlChave: z.url(),
    autorizacao: z.url(),
    statusServico: z.url(),
    /** NFeConsultaProtocolo4; SP's sits beside NFeAutorizacao4 and is derived from it when absent. */
    consultaProtocolo: z.url().optional(),
    /** NFeRecepcaoEvento4 (cancellations); derived from NFeAutorizacao4 when absent, as SP's sits beside it. */
    recepcaoEvento: z.url().optional(),
    /** NFeInutilizacao4; derived from NFeAutorizacao4 when absent. */
    inutilizacao: z.url().optional(),
  }),
  technicalContact: z
    .object({
      // The format only: a stored contact with wrong check digits kept parsing before, and still does.
      cnpj: z.string().regex(/^[0-9A-Z]{12}\d{2}$/),
      name: z.string().min(2).max(60),
      email: z.email().max(60),
      phone: z.string().regex(/^\d{6,14}$/),
    })
    .optional(),
});
export type Emitter = z.infer<typeof emitterSchema>;

/**
 * The URL of one of SEFAZ's NFC-e services for this emitter: the stored one, or SP's layout, where
 * every service sits beside NFeAutorizacao4 (`…/ws/NFeConsultaProtocolo4.asmx`; spec §6).
 */
export function sefazServiceUrl(
  emitter: Pick<Emitter, 'urls'>,
  service: 'consultaProtocolo' | 'recepcaoEvento' | 'inutilizacao',
): string {
  const name = {
    consultaProtocolo: 'NFeConsultaProtocolo4',
    recepcaoEvento: 'NFeRecepcaoEvento4',
    inutilizacao: 'NFeInutilizacao4',
  }[service];
  return emitter.urls[service] ?? emitter.urls.autorizacao.replace('NFeAutorizacao4', name);
}

/** `ide/verProc` and the events' `verAplic`: this application and its version. */
export const VER_PROC = 'checkout 0.1';
