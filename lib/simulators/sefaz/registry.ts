import type { NFeDocument } from './document.ts';
import { duplicate, duplicateNumber, type Status } from './messages.ts';

/** An authorized document: its protocol's fields (what a consultation repeats in protNFe) and its lot. */
export interface Authorization {
  chNFe: string;
  nProt: string;
  dhRecbto: string;
  digVal: string;
  /** The environment and application that authorized it, as its infProt said. */
  tpAmb: string;
  verAplic: string;
  /** The receipt of the lot that carried it, which a 539 names. */
  nRec: string;
}

/**
 * The SEFAZ's memory, kept in process: authorized keys and the numbers they use, plus the protocol
 * and receipt sequences. Sequences start from the clock so numbers keep increasing across restarts
 * of the local stack, as real protocol numbers do.
 */
export class Registry {
  private readonly byKey = new Map<string, Authorization>();
  private readonly byNumber = new Map<string, Authorization>();
  private protocolSequence = Math.floor(Date.now() / 1000);
  private receiptSequence = Math.floor(Date.now() / 1000);

  constructor(private readonly cUF: string) {}

  /** 204 when this key is authorized, 539 when its CNPJ, model, series and number are, under another key. */
  duplicateOf(document: NFeDocument): Status | undefined {
    if (this.byKey.has(document.chNFe)) return duplicate(document.chNFe);
    const earlier = this.byNumber.get(numberOf(document));
    return earlier && duplicateNumber(earlier.chNFe, earlier.nRec);
  }

  /** Receipt number of a lot: cUF, 1, a 12-digit sequence (TRec, 15 digits). */
  nextReceipt(): string {
    return `${this.cUF}1${String(++this.receiptSequence % 10 ** 12).padStart(12, '0')}`;
  }

  /**
   * nProt (TProt, 15 or 17 digits): 1 (SEFAZ's own authorizer), cUF, year, then a sequence of 10
   * digits, or of 12 for the 17-digit protocols SP issues for NFC-e. The 15-digit layout is the
   * MOC's; that the 17-digit one only widens the sequence is an assumption (no layout was found).
   */
  authorize(document: NFeDocument, details: Omit<Authorization, 'chNFe' | 'nProt'>, protocolDigits: 15 | 17 = 17): Authorization {
    const year = details.dhRecbto.slice(2, 4);
    const width = protocolDigits - 5;
    const nProt = `1${this.cUF}${year}${String(BigInt(++this.protocolSequence) % 10n ** BigInt(width)).padStart(width, '0')}`;
    const authorization = { chNFe: document.chNFe, nProt, ...details };
    this.byKey.set(document.chNFe, authorization);
    this.byNumber.set(numberOf(document), authorization);
    return authorization;
  }

  /** The authorization of this key, if any (NFeConsultaProtocolo4). */
  find(chNFe: string): Authorization | undefined {
    return this.byKey.get(chNFe);
  }

  list(): Authorization[] {
    return [...this.byKey.values()];
  }

  clear(): void {
    this.byKey.clear();
    this.byNumber.clear();
  }
}

const numberOf = ({ cnpj, ide }: NFeDocument): string => [cnpj, ide.mod, Number(ide.serie), Number(ide.nNF)].join('|');
