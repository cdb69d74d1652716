/**
 * Text for the NFC-e's TString fields (cProd, xProd, uCom, infCpl, …). The schema's TString
 * (tiposBasico_v4.00.xsd, PL_009_V4 and PL_010e_v1.01 alike) is the pattern
 * `[!-ÿ]{1}[ -ÿ]*[!-ÿ]{1}|[!-ÿ]{1}`: characters from `!` to `ÿ` (U+0021–U+00FF) plus inner spaces,
 * nothing outside Latin-1, no leading or trailing space. That range still admits DEL, the C1
 * controls (U+0080–U+009F), the no-break space and the soft hyphen; none of them is written here.
 *
 * Names typed on a POS often carry tabs, line breaks, curly quotes, dashes, accents outside
 * Latin-1 or emoji: {@link schemaText} maps or drops them, then collapses spaces and truncates, so
 * that its output only ever holds {@link SCHEMA_CHARACTERS}.
 */

/**
 * Every character {@link schemaText} may write: ` ` to `~` and `¡` to `ÿ` but the soft hyphen.
 * A non-empty output also starts and ends with a character other than the space, and never holds
 * two spaces in a row.
 */
export const SCHEMA_CHARACTERS = /^[\x20-\x7e\xa1-\xac\xae-\xff]*$/;

/** Typographic characters a keyboard or a POS produces, and Latin letters with no decomposition. */
const REPLACEMENTS = new Map<string, string>(
  Object.entries({
    '‘': "'",
    '’': "'",
    '‚': "'",
    '‛': "'",
    '′': "'",
    ʼ: "'",
    '“': '"',
    '”': '"',
    '„': '"',
    '‟': '"',
    '″': '"',
    '‐': '-',
    '‑': '-',
    '‒': '-',
    '–': '-',
    '—': '-',
    '―': '-',
    '−': '-',
    '⁃': '-',
    '•': '-',
    '‹': '<',
    '›': '>',
    '⁄': '/',
    '…': '...',
    '€': 'EUR',
    '№': 'Nº',
    Œ: 'OE',
    œ: 'oe',
    Ł: 'L',
    ł: 'l',
    Đ: 'D',
    đ: 'd',
    ı: 'i',
    ƒ: 'f',
  }),
);

const KEPT = /^[\x20-\x7e\xa1-\xac\xae-\xff]$/;
/** Line breaks, tabs and every Unicode space (no-break, en, em, ideographic, …) but U+FEFF. */
const SPACE = /^[\s\x85]$/u;
/** Controls, format characters (zero-width, bidi marks, soft hyphen, U+FEFF), surrogates, private use, unassigned. */
const INVISIBLE = /^\p{C}$/u;
const MARKS = /\p{M}/gu;

/** One character of the input, as schema text: itself, a replacement, a space or nothing. */
function mapCharacter(ch: string): string {
  if (KEPT.test(ch)) return ch;
  const replacement = REPLACEMENTS.get(ch);
  if (replacement !== undefined) return replacement;
  if (ch !== '\ufeff' && SPACE.test(ch)) return ' ';
  if (INVISIBLE.test(ch)) return '';
  // Letters outside Latin-1 keep their base letter (ő → o, 𝐀 → A, ﬁ → fi, ㎏ → kg); emoji,
  // symbols and other scripts are dropped. The decomposition is kept only when all of it maps.
  let out = '';
  for (const part of ch.normalize('NFKD').replace(MARKS, '')) {
    const mapped = part !== ' ' && KEPT.test(part) ? part : REPLACEMENTS.get(part);
    if (mapped === undefined) return '';
    out += mapped;
  }
  return out;
}

/**
 * `input` as a TString of at most `maxLength` characters: mapped character by character (see the
 * file's comment), spaces collapsed, trimmed, truncated. Empty when nothing printable is left
 * (an sku made only of emoji): the caller decides whether that is allowed.
 */
export function schemaText(input: string, maxLength: number): string {
  let out = '';
  for (const ch of input.normalize('NFC')) out += mapCharacter(ch);
  const collapsed = out.replace(/ {2,}/g, ' ').replace(/^ | $/g, '');
  return collapsed.slice(0, maxLength).replace(/ $/, '');
}
