import { nossoNumeroCandidates, normalizeNumero, type Boleto } from './boleto.ts';
import type { BoletoStore } from './store.ts';

/** What a record's or notice's numbers name: one boleto, none, or several (never guessed). */
export type Match = { kind: 'one'; boleto: Boleto } | { kind: 'none' } | { kind: 'ambiguous'; detail: string };

/**
 * The boleto a LIQUI record or a payment notice names (spec §1.4, §2.3): `numeroCliente` +
 * nosso número, compared without leading zeros, as it is and without its last digit (Sicoob's
 * numbers carry the check digit; an import may not); else the contract's only boleto with that
 * `seuNumero`. When both readings of the number name a boleto, or the number names one and the
 * `seuNumero` another, the `seuNumero` decides if it points at exactly one of them; otherwise the
 * match is ambiguous and nothing is applied (an exception for finance).
 */
export async function matchBoleto(store: BoletoStore, cliente: string, nossoNumero: string, seuNumero?: string): Promise<Match> {
  const contract = normalizeNumero(cliente);
  // Both readings at once (one round trip), in candidate order.
  const found = (await Promise.all(nossoNumeroCandidates(nossoNumero).map((n) => store.get(contract, n)))).filter(
    (boleto): boleto is Boleto => boleto !== undefined,
  );
  const agreeing = seuNumero ? found.filter((b) => b.seuNumero === seuNumero) : [];
  // A number and a seuNumero that agree on one boleto decide without the index (the common case).
  if (found.length === 1 && (!seuNumero || agreeing.length === 1)) return { kind: 'one', boleto: found[0]! };
  if (agreeing.length === 1) return { kind: 'one', boleto: agreeing[0]! };
  const bySeu = seuNumero ? await store.bySeuNumero(contract, seuNumero) : [];
  const names = (boletos: Boleto[]) => boletos.map((b) => `${b.nossoNumero} (${b.seuNumero})`).join(', ');
  if (found.length === 0) {
    if (bySeu.length === 1) return { kind: 'one', boleto: bySeu[0]! };
    if (bySeu.length > 1) return { kind: 'ambiguous', detail: `seuNumero ${seuNumero} names several boletos: ${names(bySeu)}` };
    return { kind: 'none' };
  }
  if (found.length === 1 && !bySeu.some((b) => b.nossoNumero !== found[0]!.nossoNumero))
    return { kind: 'one', boleto: found[0]! };
  const others = bySeu.filter((b) => !found.some((f) => f.nossoNumero === b.nossoNumero));
  return {
    kind: 'ambiguous',
    detail: `nosso número ${normalizeNumero(nossoNumero)}${seuNumero ? ` with seuNumero ${seuNumero}` : ''} could be ${names([...found, ...others])}`,
  };
}
