import { DOMParser, onErrorStopParsing, type Element } from '@xmldom/xmldom';
import { ACCESS_KEY_PATTERN } from './key.ts';
import {
  center,
  decimal,
  formatDocument,
  keep,
  labelValue,
  localDateTime,
  money,
  padEnd,
  padStart,
  spread,
  width,
  wrap,
} from './receipt-text.ts';

/**
 * The printed DANFE NFC-e as plain text for the card machine's 57 mm thermal printer (32 columns of
 * the normal font, 48 of the condensed one), following the Manual de Especificações Técnicas do
 * DANFE NFC-e e QR Code: emitter, fixed title, fiscal message, items, totals, payments, key,
 * consumer, identification and protocol, QR code, approximate taxes and infCpl. A cancelled NFC-e
 * (`options.cancellation`: the 110111 event's protocol and dhRegEvento, `-03:00`) says so first.
 */
export function renderReceipt(
  nfeProcXml: string,
  options: { columns?: 32 | 48; cancellation?: { nProt: string; dhRegEvento: string } } = {},
): string {
  const columns = options.columns ?? 32;
  if (columns !== 32 && columns !== 48) throw new Error(`receipt columns must be 32 or 48, got ${String(columns)}`);
  const nfce = readNfce(nfeProcXml);
  const sections = [
    emitterSection(nfce, columns),
    center(wrap(`Documento Auxiliar da Nota Fiscal de ${keep('Consumidor Eletrônica')}`, columns), columns),
    fiscalMessageSection(nfce, columns, options.cancellation),
    itemsSection(nfce.items, columns),
    totalsSection(nfce, columns),
    paymentsSection(nfce, columns),
    keySection(nfce, columns),
    consumerSection(nfce, columns),
    identificationSection(nfce, columns),
    qrCodeSection(columns),
    taxesSection(nfce, columns),
  ].filter((lines) => lines.length > 0);
  return sections.flatMap((lines, i) => (i === 0 ? lines : ['-'.repeat(columns), ...lines])).join('\n');
}

const NS = 'http://www.portalfiscal.inf.br/nfe';

/** tPag → printed name. The schema only says "two digits"; the list is the MOC's, with its technical notes. */
const PAYMENT_NAMES: Record<string, string> = {
  '01': 'Dinheiro',
  '02': 'Cheque',
  '03': 'Cartão de Crédito',
  '04': 'Cartão de Débito',
  '05': 'Crédito Loja',
  '10': 'Vale Alimentação',
  '11': 'Vale Refeição',
  '12': 'Vale Presente',
  '13': 'Vale Combustível',
  '15': 'Boleto Bancário',
  '16': 'Depósito Bancário',
  '17': 'Pagamento Instantâneo (PIX)',
  '18': 'Transferência bancária, Carteira Digital',
  '19': 'Programa de fidelidade, Cashback, Crédito Virtual',
  '20': 'PIX Estático',
  '21': 'Crédito em Loja',
  '22': 'Pagamento Eletrônico não Informado',
  '90': 'Sem pagamento',
  '99': 'Outros',
};

/** What the receipt prints, read and checked before any line is laid out. Money in centavos. */
interface Nfce {
  emitter: { name: string; tradeName?: string; document: string; ie: string; address: string };
  homologation: boolean;
  contingency: boolean;
  number: string;
  series: string;
  issuedAt: string;
  items: { code: string; description: string; quantity: string; unit: string; unitPrice: string; total: string }[];
  productsTotal: number;
  discount: number;
  surcharge: number;
  toPay: number;
  approximateTaxes?: number;
  payments: { name: string; amount: number }[];
  change?: number;
  urlChave: string;
  key: string;
  consumer?: { document: string; name?: string };
  protocol?: { number: string; authorizedAt: string };
  additionalInfo?: string;
}

function readNfce(xml: string): Nfce {
  const root = parseXml(xml);
  const problems = new Set<string>();
  const inProc = root.localName === 'nfeProc';
  const nfe = new Cursor(inProc ? childElements(root, 'NFe')[0] : root, 'NFe', problems);
  const inf = nfe.child('infNFe');
  const ide = inf.child('ide');
  const emit = inf.child('emit');
  const address = emit.child('enderEmit');
  const total = inf.child('total').child('ICMSTot');
  const pag = inf.child('pag');
  const dest = inf.child('dest');
  const supl = nfe.child('infNFeSupl');

  const model = ide.need('mod');
  if (model && model !== '65') problems.add(`NFe/infNFe/ide/mod ${model} is not an NFC-e (65)`);
  // An emitter with an alphanumeric CNPJ (NT 2026.004) has letters in the key's positions 7–18.
  const id = /^NFe(.{44})$/.exec(inf.attribute('Id'))?.[1] ?? '';
  const key = ACCESS_KEY_PATTERN.test(id) ? id : '';
  if (inf.exists && !key) problems.add('NFe/infNFe/@Id is not "NFe" followed by the 44-character key');
  // Not printed (the POS app prints the image of invoiceDetails.qrCode), but a receipt without it is useless.
  supl.need('qrCode');

  // Offline contingency (tpEmis 9) is printed before SEFAZ has answered, so it may lack protNFe.
  const contingency = ide.need('tpEmis') === '9';
  const protElement = inProc ? childElements(root, 'protNFe')[0] : undefined;
  let protocol: Nfce['protocol'];
  if (protElement || !contingency) {
    const prot = new Cursor(protElement, 'protNFe', problems).child('infProt');
    const status = prot.need('cStat');
    if (status && status !== '100' && status !== '150') problems.add(`protNFe/infProt/cStat ${status} is not an authorization`);
    const chNFe = prot.need('chNFe');
    if (chNFe && key && chNFe !== key) problems.add(`protNFe/infProt/chNFe ${chNFe} is not the key of infNFe (${key})`);
    protocol = { number: prot.need('nProt'), authorizedAt: prot.dateTime('dhRecbto') };
  }

  // A dest without a document (a foreigner may leave idEstrangeiro empty) prints as not identified.
  const consumerId = taxId(dest);

  const nfce: Nfce = {
    emitter: {
      name: emit.need('xNome'),
      tradeName: emit.optional('xFant'),
      document: taxId(emit) ?? emit.need('CNPJ'),
      ie: emit.need('IE'),
      address: [
        address.need('xLgr'),
        address.need('nro'),
        address.optional('xCpl'),
        address.need('xBairro'),
        address.need('xMun'),
        address.need('UF'),
      ]
        .filter(Boolean)
        .join(', '),
    },
    homologation: ide.need('tpAmb') === '2',
    contingency,
    number: ide.need('nNF'),
    series: ide.need('serie'),
    issuedAt: ide.dateTime('dhEmi'),
    items: inf.children('det').map((det) => {
      const prod = det.child('prod');
      return {
        code: prod.need('cProd'),
        description: prod.need('xProd'),
        quantity: decimal(prod.number('qCom'), 0),
        unit: prod.need('uCom'),
        unitPrice: decimal(prod.number('vUnCom'), 2),
        total: money(prod.amount('vProd')),
      };
    }),
    productsTotal: total.amount('vProd'),
    discount: total.amount('vDesc'),
    // Everything vNF adds to the products in an NFC-e (no IPI or II): other expenses, freight, insurance.
    surcharge: total.amount('vOutro') + total.amount('vFrete') + total.amount('vSeg'),
    toPay: total.amount('vNF'),
    approximateTaxes: total.optional('vTotTrib') === undefined ? undefined : total.amount('vTotTrib'),
    payments: pag.children('detPag').map((detPag) => {
      const code = detPag.need('tPag');
      const described = detPag.optional('xPag');
      return {
        name: (code === '99' && described) || PAYMENT_NAMES[code] || described || 'Outros',
        amount: detPag.amount('vPag'),
      };
    }),
    change: pag.optional('vTroco') === undefined ? undefined : pag.amount('vTroco'),
    urlChave: supl.need('urlChave'),
    key,
    consumer: consumerId ? { document: consumerId, name: dest.optional('xNome') } : undefined,
    protocol,
    additionalInfo: inf.child('infAdic').optional('infCpl'),
  };
  if (problems.size > 0) throw new Error(`cannot print the DANFE NFC-e: ${[...problems].join('; ')}`);
  return nfce;
}

/** `CNPJ: 82.373.077/0001-71`, `CPF: 529.982.247-25` or a foreigner's id, as the receipt labels them. */
function taxId(party: Cursor): string | undefined {
  const cnpj = party.optional('CNPJ');
  if (cnpj) return `CNPJ: ${formatDocument('CNPJ', cnpj)}`;
  const cpf = party.optional('CPF');
  if (cpf) return `CPF: ${formatDocument('CPF', cpf)}`;
  const foreign = party.optional('idEstrangeiro');
  return foreign && `Id. Estrangeiro: ${foreign}`;
}

function parseXml(xml: string): Element {
  let root: Element | null;
  try {
    root = new DOMParser({ onError: onErrorStopParsing }).parseFromString(xml, 'text/xml').documentElement;
  } catch (error) {
    throw new Error(`cannot print the DANFE NFC-e: the XML does not parse (${(error as Error).message})`);
  }
  if (!root || root.namespaceURI !== NS || (root.localName !== 'nfeProc' && root.localName !== 'NFe')) {
    throw new Error(`cannot print the DANFE NFC-e: expected <nfeProc> or <NFe> in ${NS}, got <${root?.nodeName}>`);
  }
  return root;
}

function childElements(parent: Element, name: string): Element[] {
  return Array.from(parent.childNodes).filter(
    (node): node is Element =>
      node.nodeType === node.ELEMENT_NODE && (node as Element).localName === name && (node as Element).namespaceURI === NS,
  );
}

/**
 * A walk down the document that records what is missing or malformed instead of throwing, so one
 * error names every problem. Below a missing element the cursor keeps that element's path, so a
 * missing `infNFeSupl` is reported once, not once per child.
 */
class Cursor {
  constructor(
    private readonly element: Element | undefined,
    readonly path: string,
    private readonly problems: Set<string>,
  ) {}

  get exists(): boolean {
    return this.element !== undefined;
  }

  child(name: string): Cursor {
    return this.element ? new Cursor(childElements(this.element, name)[0], `${this.path}/${name}`, this.problems) : this;
  }

  /** Repeated elements (det, detPag): the schema wants at least one. */
  children(name: string): Cursor[] {
    const elements = this.element ? childElements(this.element, name) : [];
    if (elements.length === 0) this.problems.add(`missing ${this.child(name).path}`);
    return elements.map((el, i) => new Cursor(el, `${this.path}/${name}[${i + 1}]`, this.problems));
  }

  attribute(name: string): string {
    return this.element?.getAttribute(name) ?? '';
  }

  /** The element's text, NFC-normalized with whitespace collapsed; undefined when absent or empty. */
  optional(name: string): string | undefined {
    const text = this.child(name).element?.textContent?.normalize('NFC').replace(/\s+/g, ' ').trim();
    return text || undefined;
  }

  need(name: string): string {
    const text = this.optional(name);
    if (text === undefined) this.problems.add(`missing ${this.child(name).path}`);
    return text ?? '';
  }

  /** A non-negative XML decimal such as qCom `1.0000`. */
  number(name: string): string {
    const text = this.need(name);
    if (text && !/^\d+(\.\d+)?$/.test(text)) this.problems.add(`${this.child(name).path} is not a number: "${text}"`);
    return text;
  }

  /** A money amount (up to 2 decimals), in centavos. */
  amount(name: string): number {
    const text = this.need(name);
    if (!text) return 0;
    const match = /^(\d+)(?:\.(\d{1,2}))?$/.exec(text);
    if (!match) this.problems.add(`${this.child(name).path} is not an amount: "${text}"`);
    return match ? Number(match[1]) * 100 + Number((match[2] ?? '').padEnd(2, '0')) : 0;
  }

  dateTime(name: string): string {
    const text = this.need(name);
    const local = localDateTime(text);
    if (text && !local) this.problems.add(`${this.child(name).path} is not a date-time with offset: "${text}"`);
    return local ?? '';
  }
}

function emitterSection({ emitter }: Nfce, columns: number): string[] {
  const names = emitter.tradeName && emitter.tradeName !== emitter.name ? [emitter.tradeName, emitter.name] : [emitter.name];
  return center(
    [...names, `${keep(emitter.document)} ${keep(`IE: ${emitter.ie}`)}`, emitter.address].flatMap((text) => wrap(text, columns)),
    columns,
  );
}

/** The "Área de Mensagem Fiscal": right under the title, so a receipt without fiscal value says so first. */
function fiscalMessageSection(nfce: Nfce, columns: number, cancellation?: { nProt: string; dhRegEvento: string }): string[] {
  const lines: string[] = [];
  if (cancellation) {
    // As the authorization's protocol is printed: the label, then the number and the time.
    lines.push('NFC-e CANCELADA', 'Protocolo de cancelamento:', cancellation.nProt);
    lines.push(localDateTime(cancellation.dhRegEvento) ?? cancellation.dhRegEvento);
  }
  if (nfce.homologation) lines.push(`EMITIDA EM AMBIENTE DE HOMOLOGAÇÃO - ${keep('SEM VALOR FISCAL')}`);
  if (nfce.contingency) lines.push('EMITIDA EM CONTINGÊNCIA');
  if (nfce.contingency && !nfce.protocol) lines.push('Pendente de autorização');
  return center(
    lines.flatMap((line) => wrap(line, columns)),
    columns,
  );
}

/**
 * Code and description on their own (wrapped) lines, then a right-aligned row of columns sized to the
 * widest value of this receipt, so quantities and prices line up under the header.
 */
function itemsSection(items: Nfce['items'], columns: number): string[] {
  const header = ['Qtde', 'UN', 'Vl.Unit', 'Vl.Total'];
  const cells = (item: Nfce['items'][number]) => [item.quantity, item.unit, item.unitPrice, item.total];
  const sizes = header.map((label, c) => Math.max(width(label), ...items.map((item) => width(cells(item)[c] ?? ''))));
  const join = (row: string[]) => row.map((cell, c) => (c === 1 ? padEnd : padStart)(cell, sizes[c] ?? 0)).join(' ');
  // Only huge amounts overflow the row; then it wraps rather than cross the paper's edge.
  const place = (row: string) => (width(row) <= columns ? [padStart(row, columns)] : wrap(row, columns));
  const title = 'Código Descrição';
  const head = join(header);
  return [
    ...(width(title) + 1 + width(head) <= columns ? [spread(title, head, columns)] : [title, ...place(head)]),
    ...items.flatMap((item) => [...wrap(`${item.code} ${item.description}`, columns), ...place(join(cells(item)))]),
  ];
}

function totalsSection(nfce: Nfce, columns: number): string[] {
  return [
    ...labelValue('Qtde. total de itens', String(nfce.items.length), columns),
    ...labelValue('Valor total R$', money(nfce.productsTotal), columns),
    ...(nfce.discount > 0 ? labelValue('Desconto R$', money(nfce.discount), columns) : []),
    ...(nfce.surcharge > 0 ? labelValue('Acréscimos R$', money(nfce.surcharge), columns) : []),
    ...labelValue('Valor a Pagar R$', money(nfce.toPay), columns),
  ];
}

function paymentsSection(nfce: Nfce, columns: number): string[] {
  return [
    ...labelValue('FORMA PAGAMENTO', 'VALOR PAGO R$', columns),
    ...nfce.payments.flatMap((payment) => labelValue(payment.name, money(payment.amount), columns)),
    ...(nfce.change === undefined ? [] : labelValue('Troco R$', money(nfce.change), columns)),
  ];
}

/** The key in 11 groups of 4 characters, spread evenly over as few lines as the width needs (6 + 5). */
function keySection(nfce: Nfce, columns: number): string[] {
  const groups = nfce.key.match(/[0-9A-Z]{4}/g) ?? [];
  const perLine = Math.ceil(groups.length / wrap(groups.join(' '), columns).length);
  const keyLines = [];
  for (let i = 0; i < groups.length; i += perLine) keyLines.push(groups.slice(i, i + perLine).join(' '));
  return center([...wrap('Consulte pela Chave de Acesso em', columns), ...wrap(nfce.urlChave, columns), ...keyLines], columns);
}

function consumerSection({ consumer }: Nfce, columns: number): string[] {
  const lines = consumer
    ? [`CONSUMIDOR ${keep(consumer.document)}`, ...(consumer.name ? [consumer.name] : [])].flatMap((text) => wrap(text, columns))
    : ['CONSUMIDOR NÃO IDENTIFICADO'];
  return center(lines, columns);
}

function identificationSection(nfce: Nfce, columns: number): string[] {
  const lines = [`NFC-e nº ${nfce.number} Série ${nfce.series} ${keep(nfce.issuedAt)}`];
  if (nfce.protocol) {
    lines.push(`Protocolo de autorização: ${nfce.protocol.number}`, `Data de autorização: ${keep(nfce.protocol.authorizedAt)}`);
  }
  return center(
    lines.flatMap((line) => wrap(line, columns)),
    columns,
  );
}

/**
 * Text cannot carry the QR code: the POS app replaces the line that is exactly `[QRCODE]` with the
 * image of `invoiceDetails.qrCode`, at least 25 × 25 mm, printed with the card machine's
 * `printImage` (Cielo LIO PrinterManager), centered.
 */
function qrCodeSection(columns: number): string[] {
  return [...center(['Consulta via leitor de QR Code'], columns), '[QRCODE]'];
}

function taxesSection(nfce: Nfce, columns: number): string[] {
  return [
    ...(nfce.approximateTaxes === undefined
      ? []
      : wrap(`Tributos Totais Incidentes (Lei Federal 12.741/2012): ${keep(`R$ ${money(nfce.approximateTaxes)}`)}`, columns)),
    ...(nfce.additionalInfo ? wrap(nfce.additionalInfo, columns) : []),
  ];
}
