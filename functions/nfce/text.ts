/**
 * The schema's TString allows only characters from `!` to `ÿ` (U+0021–U+00FF) plus inner spaces:
 * no control characters, nothing outside Latin-1, no leading or trailing space. Names typed on a
 * POS often carry curly quotes, dashes or emoji; they are mapped or dropped here, then truncated.
 */
const REPLACEMENTS: Record<string, string> = {
  '‘': "'",
  '’': "'",
  '‚': "'",
  '“': '"',
  '”': '"',
  '„': '"',
  '–': '-',
  '—': '-',
  '…': '...',
  '€': 'EUR',
  '•': '-',
  º: 'º',
  '\u00a0': ' ',
};

export function schemaText(input: string, maxLength: number): string {
  let out = '';
  for (const ch of input.normalize('NFC')) {
    const code = ch.codePointAt(0)!;
    if (code >= 0x20 && code <= 0xff && code !== 0x7f && !(code >= 0x80 && code < 0xa0)) out += ch;
    else if (REPLACEMENTS[ch] !== undefined) out += REPLACEMENTS[ch];
    else if (/\s/.test(ch)) out += ' ';
    else {
      // Letters outside Latin-1 keep their base letter (ő → o); symbols and emoji are dropped.
      const base = ch.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
      if (base.length === 1 && base.charCodeAt(0) <= 0xff) out += base;
    }
  }
  return out.replace(/ {2,}/g, ' ').trim().slice(0, maxLength).trim();
}
