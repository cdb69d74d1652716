import { addDays, isDay } from './dates.ts';
import { codigoBarras } from './numbers.ts';
import type { SicoobBoletoSeed, SicoobLiquidation, SicoobUnmatchedLiquidation } from './types.ts';

/**
 * `idTipoOpFinanceira` → the text carried in `tipoOpFinanceira` (spec §1.4). The real text is
 * Unknown ("07" or "07 - Via Pix"): the simulator writes code and channel.
 */
export const TIPOS_OP_FINANCEIRA: Readonly<Record<number, string>> = Object.freeze({
  2: '01 - Via Caixa',
  51: '01 - Via Caixa',
  74: '02 - Via Correspondente',
  75: '02 - Via Correspondente',
  57: '03 - Via Cartório',
  58: '04 - Via Compensação',
  68: '05 - Via Agendamento',
  212: '07 - Via Pix',
  213: '08 - Via Poupança',
  215: '09 - Via Intercredis',
});
const PIX = 212;
const DEFAULT_TARIFA = 150;

/** A boleto the cooperado registered; centavos. */
export interface Boleto {
  numeroCliente: number;
  /** Digits with the DV, no leading zeros. */
  nossoNumero: string;
  seuNumero: string;
  valor: number;
  dataVencimento: string;
  /** The São Paulo day it was seeded. */
  dataEmissao: string;
  /** What its latest liquidation says was paid (control.liquidate), for the payment notice's default. */
  valorPago?: number;
}

/** A LIQUI movement as the files carry it; amounts in centavos, days `yyyy-MM-dd`. */
export interface Liquidation {
  numeroCliente: number;
  /** The nosso número with its DV, no leading zeros. */
  numeroTitulo: string;
  seuNumero: string;
  dataVencimento: string;
  valorTitulo: number;
  codigoBarras: string;
  /** The processing day (`dataMovimentoLiquidacao`): what a report's window selects on. */
  dataMovimento: string;
  dataLiquidacao: string;
  dataPrevisaoCredito: string;
  idTipoOpFinanceira: number;
  valorAbatimento: number;
  valorDesconto: number;
  valorMora: number;
  valorLiquido: number;
  valorTarifaMovimento: number;
}

/** The cooperados' boletos and their LIQUI movements, per numeroCliente, in the order they happened. */
export class Ledger {
  private readonly boletos = new Map<number, Map<string, Boleto>>();
  private readonly movements = new Map<number, Liquidation[]>();

  constructor(private readonly today: () => string) {}

  seed(seed: SicoobBoletoSeed): Boleto {
    const numeroCliente = integer(seed.numeroCliente, 'numeroCliente');
    const nossoNumero = digits(seed.nossoNumero, 'nossoNumero');
    const boletos = this.boletosOf(numeroCliente);
    if (boletos.has(nossoNumero)) throw new Error(`boleto ${nossoNumero} of ${numeroCliente} is already seeded`);
    const boleto: Boleto = {
      numeroCliente,
      nossoNumero,
      seuNumero: String(seed.seuNumero),
      valor: centavos(seed.valor, 'valor'),
      dataVencimento: day(seed.dataVencimento, 'dataVencimento'),
      dataEmissao: this.today(),
    };
    boletos.set(nossoNumero, boleto);
    return boleto;
  }

  boleto(numeroCliente: number, nossoNumero: string): Boleto | undefined {
    return this.boletos.get(numeroCliente)?.get(stripZeros(nossoNumero));
  }

  /** A LIQUI movement for a seeded boleto (control.liquidate; the defaults are documented there). */
  liquidate(numeroCliente: number, nossoNumero: string, l: SicoobLiquidation): Liquidation {
    const boleto = this.boleto(numeroCliente, nossoNumero);
    if (!boleto) throw new Error(`boleto ${nossoNumero} of ${numeroCliente} is not seeded`);
    const dataLiquidacao = day(l.dataLiquidacao, 'dataLiquidacao');
    const dataMovimento = l.dataMovimento === undefined ? dataLiquidacao : day(l.dataMovimento, 'dataMovimento');
    const valorMora = centavos(l.valorMora ?? 0, 'valorMora');
    const valorDesconto = centavos(l.valorDesconto ?? 0, 'valorDesconto');
    const valorAbatimento = centavos(l.valorAbatimento ?? 0, 'valorAbatimento');
    const valorPago = centavos(l.valorPago ?? boleto.valor + valorMora - valorDesconto - valorAbatimento, 'valorPago');
    const idTipoOpFinanceira = l.idTipoOpFinanceira ?? PIX;
    if (!(idTipoOpFinanceira in TIPOS_OP_FINANCEIRA)) throw new Error(`unknown idTipoOpFinanceira ${idTipoOpFinanceira}`);
    boleto.valorPago = valorPago;
    return this.add({
      numeroCliente,
      numeroTitulo: boleto.nossoNumero,
      seuNumero: boleto.seuNumero,
      dataVencimento: boleto.dataVencimento,
      valorTitulo: boleto.valor,
      codigoBarras: codigoBarras(numeroCliente, boleto.nossoNumero, boleto.dataVencimento, boleto.valor),
      dataMovimento,
      dataLiquidacao,
      dataPrevisaoCredito: creditDay(l.dataPrevisaoCredito, dataLiquidacao),
      idTipoOpFinanceira,
      valorAbatimento,
      valorDesconto,
      valorMora,
      // "valor recebido": what was paid; whether Sicoob deducts the tariff here is Unknown — it does not.
      valorLiquido: valorPago,
      valorTarifaMovimento: centavos(l.valorTarifaMovimento ?? DEFAULT_TARIFA, 'valorTarifaMovimento'),
    });
  }

  /** A LIQUI movement for a boleto nobody seeded: due on its liquidation day, paid in full by Pix unless said. */
  addLiquidation(r: SicoobUnmatchedLiquidation): Liquidation {
    const numeroCliente = integer(r.numeroCliente, 'numeroCliente');
    const numeroTitulo = digits(r.numeroTitulo, 'numeroTitulo');
    const valorTitulo = centavos(r.valorTitulo, 'valorTitulo');
    const dataLiquidacao = day(r.dataLiquidacao, 'dataLiquidacao');
    return this.add({
      numeroCliente,
      numeroTitulo,
      seuNumero: r.seuNumero ?? '',
      dataVencimento: dataLiquidacao,
      valorTitulo,
      codigoBarras: codigoBarras(numeroCliente, numeroTitulo, dataLiquidacao, valorTitulo),
      dataMovimento: r.dataMovimento === undefined ? dataLiquidacao : day(r.dataMovimento, 'dataMovimento'),
      dataLiquidacao,
      dataPrevisaoCredito: addDays(dataLiquidacao, 1),
      idTipoOpFinanceira: PIX,
      valorAbatimento: 0,
      valorDesconto: 0,
      valorMora: 0,
      valorLiquido: centavos(r.valorLiquido ?? valorTitulo, 'valorLiquido'),
      valorTarifaMovimento: DEFAULT_TARIFA,
    });
  }

  /**
   * `count` boletos numbered `first`, `first + 1`… (seuNumero `BULK-<n>`, R$ 10,00 to R$ 59,99,
   * due 10 days after `date`), each liquidated by Pix on `date`, paid in full. Throws, seeding
   * nothing, when a number is taken.
   */
  bulk(numeroCliente: number, count: number, date: string, first: number): string[] {
    integer(numeroCliente, 'numeroCliente');
    if (!Number.isSafeInteger(count) || count < 0) throw new Error(`count must be an integer ≥ 0, not ${count}`);
    if (!Number.isSafeInteger(first) || first < 1) throw new Error(`firstNossoNumero must be an integer ≥ 1, not ${first}`);
    day(date, 'date');
    const boletos = this.boletosOf(numeroCliente);
    const numbers = Array.from({ length: count }, (_, i) => String(first + i));
    const taken = numbers.find((n) => boletos.has(n));
    if (taken !== undefined) throw new Error(`boleto ${taken} of ${numeroCliente} is already seeded`);
    const dataVencimento = addDays(date, 10);
    const dataPrevisaoCredito = addDays(date, 1);
    const dataEmissao = this.today();
    const movements = this.movementsOf(numeroCliente);
    for (const [i, nossoNumero] of numbers.entries()) {
      const valor = 1000 + ((i * 37) % 5000);
      const seuNumero = `BULK-${nossoNumero}`;
      boletos.set(nossoNumero, { numeroCliente, nossoNumero, seuNumero, valor, dataVencimento, dataEmissao, valorPago: valor });
      movements.push({
        numeroCliente,
        numeroTitulo: nossoNumero,
        seuNumero,
        dataVencimento,
        valorTitulo: valor,
        codigoBarras: codigoBarras(numeroCliente, nossoNumero, dataVencimento, valor),
        dataMovimento: date,
        dataLiquidacao: date,
        dataPrevisaoCredito,
        idTipoOpFinanceira: PIX,
        valorAbatimento: 0,
        valorDesconto: 0,
        valorMora: 0,
        valorLiquido: valor,
        valorTarifaMovimento: DEFAULT_TARIFA,
      });
    }
    return numbers;
  }

  /** The next number after the client's highest seeded one (1 when none): where bulk starts by default. */
  nextNossoNumero(numeroCliente: number): number {
    let highest = 0;
    for (const nossoNumero of this.boletos.get(numeroCliente)?.keys() ?? []) highest = Math.max(highest, Number(nossoNumero));
    return highest + 1;
  }

  /** The client's LIQUI movements processed from `dataInicial` to `dataFinal` (both inclusive), in order. */
  liquidations(numeroCliente: number, dataInicial: string, dataFinal: string): Liquidation[] {
    return (this.movements.get(numeroCliente) ?? []).filter(
      (m) => m.dataMovimento >= dataInicial && m.dataMovimento <= dataFinal,
    );
  }

  private add(movement: Liquidation): Liquidation {
    this.movementsOf(movement.numeroCliente).push(movement);
    return movement;
  }

  private boletosOf(numeroCliente: number): Map<string, Boleto> {
    let boletos = this.boletos.get(numeroCliente);
    if (!boletos) this.boletos.set(numeroCliente, (boletos = new Map()));
    return boletos;
  }

  private movementsOf(numeroCliente: number): Liquidation[] {
    let movements = this.movements.get(numeroCliente);
    if (!movements) this.movements.set(numeroCliente, (movements = []));
    return movements;
  }
}

/** `"0000002443"` → `"2443"`. */
function stripZeros(digits: string): string {
  return digits.replace(/^0+(?=\d)/, '');
}

function integer(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new Error(`${name} must be an integer ≥ 1, not ${value}`);
  return value;
}

/** 1 to 10 digits (Sicoob's nosso número with its DV fits 10), without leading zeros. */
function digits(value: string, name: string): string {
  if (typeof value !== 'string' || !/^\d{1,10}$/.test(value)) throw new Error(`${name} must be 1 to 10 digits, not ${value}`);
  return stripZeros(value);
}

function centavos(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`${name} must be integer centavos ≥ 0, not ${value}`);
  return value;
}

function day(value: string, name: string): string {
  if (!isDay(value)) throw new Error(`${name} must be a yyyy-MM-dd day, not ${value}`);
  return value;
}

/** The expected credit day: as given, else the day after the liquidation (D+1, weekends ignored: a simulator choice). */
function creditDay(given: string | undefined, dataLiquidacao: string): string {
  return given === undefined ? addDays(dataLiquidacao, 1) : day(given, 'dataPrevisaoCredito');
}
