import { formatReais } from '../shared/money.ts';

/**
 * Plain-text layout for a fixed-width thermal printer. Widths count code points, not bytes or
 * UTF-16 units (text is NFC-normalized when read, so "Ã" is one column).
 */
export function width(text: string): number {
  return [...text].length;
}

/** Joins words so that `wrap` keeps them on one line; printed as ordinary spaces. */
const GLUE = '\u00A0';

export function keep(text: string): string {
  return text.replaceAll(' ', GLUE);
}

/** Word-wraps at spaces; a word longer than the line is broken (see `pieces`). */
export function wrap(text: string, columns: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const piece of text.split(' ').flatMap((word) => pieces(word, columns))) {
    if (!line) line = piece;
    else if (width(line) + 1 + width(piece) <= columns) line += ` ${piece}`;
    else {
      lines.push(line);
      line = piece;
    }
  }
  if (line) lines.push(line);
  return lines.map((l) => l.replaceAll(GLUE, ' '));
}

/** Cuts a long word to the width, after its last `/` or `.` that fits: URLs stay readable. */
function pieces(word: string, columns: number): string[] {
  const result: string[] = [];
  let rest = [...word];
  while (rest.length > columns) {
    const head = rest.slice(0, columns);
    const cut = Math.max(head.lastIndexOf('/'), head.lastIndexOf('.')) + 1 || columns;
    result.push(rest.slice(0, cut).join(''));
    rest = rest.slice(cut);
  }
  return rest.length > 0 ? [...result, rest.join('')] : result;
}

/** Centers with leading spaces only: trailing blanks would just waste the printer's time. */
export function center(lines: string[], columns: number): string[] {
  return lines.map((line) => ' '.repeat(Math.floor((columns - width(line)) / 2)) + line);
}

/** `left` at the margin and `right` flush with the right edge, on one line. */
export function spread(left: string, right: string, columns: number): string {
  return left + ' '.repeat(Math.max(1, columns - width(left) - width(right))) + right;
}

/** A label wrapped in the room the value leaves, the value right-aligned on its last line. */
export function labelValue(label: string, value: string, columns: number): string[] {
  const lines = wrap(label, columns - width(value) - 1);
  return [...lines.slice(0, -1), spread(lines.at(-1) ?? '', value, columns)];
}

export function padStart(text: string, size: number): string {
  return ' '.repeat(Math.max(0, size - width(text))) + text;
}

export function padEnd(text: string, size: number): string {
  return text + ' '.repeat(Math.max(0, size - width(text)));
}

/**
 * Brazilian number format from an XML decimal: `"1234.5000"` → `"1.234,5"`. Trailing zeros of the
 * fraction are trimmed, but at least `minDecimals` digits are kept.
 */
export function decimal(text: string, minDecimals: number): string {
  const [integer = '', fraction = ''] = text.split('.');
  const digits = fraction.replace(/0+$/, '').padEnd(minDecimals, '0');
  const grouped = integer.replace(/^0+(?=\d)/, '').replace(/\B(?=(\d{3})+$)/g, '.');
  return digits ? `${grouped},${digits}` : grouped;
}

/** `123456` centavos → `"1.234,56"` */
export function money(centavos: number): string {
  return decimal(formatReais(centavos), 2);
}

/** CNPJ `82.373.077/0001-71` (the alphanumeric CNPJ uses the same positions), CPF `529.982.247-25`. */
export function formatDocument(kind: 'CNPJ' | 'CPF', number: string): string {
  return kind === 'CNPJ'
    ? number.replace(/^(.{2})(.{3})(.{3})(.{4})(.{2})$/, '$1.$2.$3/$4-$5')
    : number.replace(/^(.{3})(.{3})(.{3})(.{2})$/, '$1.$2.$3-$4');
}

/** `2024-08-16T15:17:35-03:00` → `16/08/2024 15:17:35`: the document's own local time, never the host's. */
export function localDateTime(text: string): string | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:Z|[+-]\d{2}:\d{2})$/.exec(text);
  return m ? `${m[3]}/${m[2]}/${m[1]} ${m[4]}:${m[5]}:${m[6]}` : undefined;
}
