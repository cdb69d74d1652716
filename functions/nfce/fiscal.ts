import { z } from 'zod';
import { identifier, nfceText } from '../shared/text.ts';

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

/** PIS and COFINS: taxed at a rate (01, 02), not taxed (04–09), or other (49–99) at a rate. */
const pisCofins = z.object({
  cst: z.enum(['01', '02', '04', '05', '06', '07', '08', '09', '49', '99']),
  rate: percent.default(0),
});
export type PisCofinsRule = z.infer<typeof pisCofins>;

export const taxProfileSchema = z.object({
  ncm: digits(8),
  cfop: z.string().regex(/^5\d{3}$/, { message: 'must be a CFOP for an operation inside the state (5xxx)' }),
  /** Origin of the goods (0 national … 8). */
  origin: z.number().int().min(0).max(8),
  icms,
  pis: pisCofins,
  cofins: pisCofins,
  cBenef: z.string().min(8).max(10).optional(),
  /** Approximate tax burden for Lei 12.741/2012 (IBPT table), in percent of the item's value. */
  approximateTax: z.object({ federal: percent, state: percent, municipal: percent }),
});
export type TaxProfile = z.infer<typeof taxProfileSchema>;

export const catalogSchema = z.object({
  /** Used for an sku missing from `items` (the NFC-e is still issued; a warning is logged). */
  default: taxProfileSchema,
  /** The service fee's line: its code and description become cProd and xProd, so an order item's sku and name rules apply. */
  serviceFee: taxProfileSchema.extend({ code: identifier(60), description: nfceText({ max: 120, required: true }) }),
  items: z.record(z.string().min(1).max(60), taxProfileSchema),
});
export type Catalog = z.infer<typeof catalogSchema>;

export const emitterSchema = z.object({
  // Numeric only: the schema package in force (PL_009_V4, NT 2024.003) has no alphanumeric CNPJ.
  cnpj: z.string().regex(/^\d{14}$/),
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
  }),
  technicalContact: z
    .object({
      cnpj: digits(14),
      name: z.string().min(2).max(60),
      email: z.email().max(60),
      phone: z.string().regex(/^\d{6,14}$/),
    })
    .optional(),
});
export type Emitter = z.infer<typeof emitterSchema>;
