import type { NFeDocument } from './document.ts';
import { duplicate, duplicateNumber, statuses, type Status } from './messages.ts';

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

/** An event SEFAZ registered (135): what a duplicate is matched on, and what a consultation repeats as procEventoNFe. */
export interface RegisteredEvent {
  chNFe: string;
  tpEvento: string;
  nSeqEvento: number;
  /** The event's own protocol (15 digits). */
  nProt: string;
  dhRegEvento: string;
  /** 110112: the substitute NFC-e. */
  chNFeRef?: string;
  /** The signed `<evento>` as received, and the `<retEvento>` answered, both with their namespace declared. */
  eventoXml: string;
  retEventoXml: string;
}

/** A range of numbers SEFAZ inutilized (NFeInutilizacao4, 102): none of them can be authorized (206). */
export interface Inutilization {
  cnpj: string;
  mod: string;
  serie: number;
  /** First and last number of the range, inclusive. */
  from: number;
  to: number;
  /** The inutilização's protocol (15 digits) and when it was recorded, as retInutNFe answered them. */
  nProt: string;
  dhRecbto: string;
}

/**
 * The SEFAZ's memory, kept in process: authorized keys and the numbers they use, registered events
 * (cancellations), inutilized ranges, plus the protocol and receipt sequences. Sequences start from
 * the clock so numbers keep increasing across restarts of the local stack, as real protocol numbers do.
 */
export class Registry {
  private readonly byKey = new Map<string, Authorization>();
  private readonly byNumber = new Map<string, Authorization>();
  private protocolSequence = Math.floor(Date.now() / 1000);
  private receiptSequence = Math.floor(Date.now() / 1000);
  private eventSequence = Math.floor(Date.now() / 1000);
  /** Registered events by key|tpEvento|nSeqEvento, and the cancelling one (110111 or 110112) by key. */
  private readonly events = new Map<string, RegisteredEvent>();
  private readonly cancellations = new Map<string, RegisteredEvent>();
  private readonly inutilizations: Inutilization[] = [];

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

  /**
   * An event's or an inutilização's protocol, 15 digits: 1, cUF, the year of `dhRegEvento` (or of
   * the inutilização's dhRecbto), a 10-digit sequence (the 15-digit TProt layout).
   */
  nextEventProtocol(dhRegEvento: string): string {
    return `1${this.cUF}${dhRegEvento.slice(2, 4)}${String(++this.eventSequence % 10 ** 10).padStart(10, '0')}`;
  }

  /** The registered event of this key, type and sequence, if any (573 when sent again). */
  findEvent(chNFe: string, tpEvento: string, nSeqEvento: number): RegisteredEvent | undefined {
    return this.events.get([chNFe, tpEvento, nSeqEvento].join('|'));
  }

  /** Records a registered event; 110111 and 110112 cancel their key. */
  registerEvent(event: RegisteredEvent): void {
    this.events.set([event.chNFe, event.tpEvento, event.nSeqEvento].join('|'), event);
    if (event.tpEvento === '110111' || event.tpEvento === '110112') this.cancellations.set(event.chNFe, event);
  }

  /** The event that cancelled this key, if it is cancelled (a consultation then answers 101). */
  cancellationOf(chNFe: string): RegisteredEvent | undefined {
    return this.cancellations.get(chNFe);
  }

  /**
   * 241: whether a number from `from` to `to` of this CNPJ, model and series was authorized (a
   * cancelled NFC-e keeps its number used). Walks the authorizations: a range may span millions.
   */
  usedInRange(cnpj: string, mod: string, serie: number, from: number, to: number): boolean {
    for (const number of this.byNumber.keys()) {
      const [usedCnpj, usedMod, usedSerie, nNF] = number.split('|');
      if (usedCnpj === cnpj && usedMod === mod && Number(usedSerie) === serie && Number(nNF) >= from && Number(nNF) <= to)
        return true;
    }
    return false;
  }

  /** 256: an inutilized range of this CNPJ, model and series that shares a number with `from`–`to`, if any. */
  inutilizedOverlapping(cnpj: string, mod: string, serie: number, from: number, to: number): Inutilization | undefined {
    return this.inutilizations.find((i) => i.cnpj === cnpj && i.mod === mod && i.serie === serie && i.from <= to && from <= i.to);
  }

  /** Records an inutilized range (102). */
  inutilize(inutilization: Inutilization): void {
    this.inutilizations.push(inutilization);
  }

  /** 206 when the document's number lies in an inutilized range of its CNPJ, model and series. */
  inutilizedOf({ cnpj, ide }: NFeDocument): Status | undefined {
    const nNF = Number(ide.nNF);
    return this.inutilizedOverlapping(cnpj, ide.mod, Number(ide.serie), nNF, nNF) ? statuses.numberInutilized : undefined;
  }

  /** The inutilized ranges, in the order they were recorded. */
  listInutilized(): Inutilization[] {
    return [...this.inutilizations];
  }

  clear(): void {
    this.byKey.clear();
    this.byNumber.clear();
    this.events.clear();
    this.cancellations.clear();
    this.inutilizations.length = 0;
  }
}

const numberOf = ({ cnpj, ide }: NFeDocument): string => [cnpj, ide.mod, Number(ide.serie), Number(ide.nNF)].join('|');
