/**
 * The simulator's carriers and amount ranges, the same for every valid DDD. Values in centavos; a
 * range is fixed when min === max, free otherwise (any whole amount from min to max).
 */
export interface CaratAmountRange {
  readonly amountKey: string;
  /** centavos */
  readonly min: number;
  /** centavos */
  readonly max: number;
  /** Bonus credit in % of the recharge value (0: none); the bonus is rounded to the centavo. */
  readonly bonusPercent: number;
}

export interface CaratDealer {
  /** Zero-padded, as rechargedealers lists it ("001"); later calls may send it unpadded ("1"). */
  readonly code: string;
  readonly name: string;
  readonly ranges: readonly CaratAmountRange[];
}

/** Days the credits stay valid (the ranges' expiry_date). */
export const CREDIT_VALIDITY_DAYS = 30;

const fixed = (amountKey: string, value: number, bonusPercent = 0): CaratAmountRange =>
  Object.freeze({ amountKey, min: value, max: value, bonusPercent });
const free = (amountKey: string, min: number, max: number): CaratAmountRange =>
  Object.freeze({ amountKey, min, max, bonusPercent: 0 });
const dealer = (code: string, name: string, ranges: CaratAmountRange[]): CaratDealer =>
  Object.freeze({ code, name, ranges: Object.freeze(ranges) });

/**
 * Vivo: fixed R$ 10, 15, 20, 30, 50, 100 (keys "1"…"6"); Claro: fixed R$ 15, 20, 30 ("1"…"3") and
 * free R$ 10…500 ("99"); Oi: free R$ 10…200 ("1"); Tim: fixed R$ 10, 20, 50 ("1"…"3") with a 10 % bonus.
 */
export const CARAT_CATALOGUE: readonly CaratDealer[] = Object.freeze([
  dealer(
    '001',
    'Vivo',
    [1000, 1500, 2000, 3000, 5000, 10000].map((value, index) => fixed(String(index + 1), value)),
  ),
  dealer('002', 'Claro', [fixed('1', 1500), fixed('2', 2000), fixed('3', 3000), free('99', 1000, 50000)]),
  dealer('003', 'Oi', [free('1', 1000, 20000)]),
  dealer('004', 'Tim', [fixed('1', 1000, 10), fixed('2', 2000, 10), fixed('3', 5000, 10)]),
]);

/** The carrier of `code`, padded or not ("1" = "001"); undefined for anything else. */
export function findDealer(code: string): CaratDealer | undefined {
  if (!/^\d{1,3}$/.test(code)) return undefined;
  return CARAT_CATALOGUE.find((candidate) => Number(candidate.code) === Number(code));
}

/** A Brazilian DDD: two digits 11…99, none ending in 0. */
export function validDdd(ddd: string): boolean {
  return /^[1-9][1-9]$/.test(ddd);
}

/** The range of `dealer` holding `amount` (centavos): the one keyed `amountKey` when given, else the first that fits. */
export function findRange(dealer: CaratDealer, amount: number, amountKey?: string): CaratAmountRange | undefined {
  return dealer.ranges.find(
    (range) => (amountKey === undefined || range.amountKey === amountKey) && amount >= range.min && amount <= range.max,
  );
}

/** The bonus credit of a recharge of `amount` centavos in `range`, in centavos. */
export function bonusOf(range: CaratAmountRange, amount: number): number {
  return Math.round((amount * range.bonusPercent) / 100);
}
