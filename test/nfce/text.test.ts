import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SCHEMA_CHARACTERS, schemaText } from '../../functions/nfce/text.ts';

/*
 * schemaText: POS text → the schema's TString (tiposBasico_v4.00.xsd,
 * `[!-ÿ]{1}[ -ÿ]*[!-ÿ]{1}|[!-ÿ]{1}`), with nothing the pattern lets through by accident (DEL, C1
 * controls, no-break space, soft hyphen).
 */

/** The schema's TString pattern, as libxml2 applies it (anchored), on a non-empty value. */
const TSTRING = /^(?:[!-ÿ][ -ÿ]*[!-ÿ]|[!-ÿ])$/;

describe('schemaText: exact mappings', () => {
  it.each([
    // [input, max, output]
    ['  Suco “Uva” – 500ml 🍇 & <Açaí>\tnovo  ', 120, 'Suco "Uva" - 500ml & <Açaí> novo'],
    ['Pão de queijo', 8, 'Pão de q'],
    ['Bolo ', 5, 'Bolo'],
    ['🍕', 10, ''],
    // tab, CR, LF, NBSP and the other Unicode spaces become one space
    ['Água\tcom\r\ngás', 60, 'Água com gás'],
    ['a\u00a0b\u00a0\u00a0c', 60, 'a b c'],
    ['A\u2003B\u3000C\u2028D\u0085E\u000bF\u000cG', 60, 'A B C D E F G'],
    // curly quotes, primes, dashes, bullets, ellipsis, euro
    ['‘single’ ‚low‛ “double” „low‟ 5′ 6″ dʼágua', 120, `'single' 'low' "double" "low" 5' 6" d'água`],
    ['a‐b‑c‒d–e—f―g−h⁃i • j', 60, 'a-b-c-d-e-f-g-h-i - j'],
    ['Espera… €5 ‹x› №7', 60, 'Espera... EUR5 <x> Nº7'],
    // accents: Latin-1 kept, others reduced to their letter, decomposed input composed first
    ['Crème brûlée, ÑOQUI, pão', 60, 'Crème brûlée, ÑOQUI, pão'],
    ['Pa\u0303o', 60, 'Pão'],
    ['Łódź Œuvre Đak ő ş ğ ž', 60, 'Lódz OEuvre Dak o s g z'],
    ['q\u0301 x\u20dd', 60, 'q x'],
    // compatibility forms: math letters, fullwidth, ligatures, units, fractions
    ['𝐏𝐢𝐳𝐳𝐚 Ⓐ ＃１ ﬁno ㎏ ⅓ ℃ ™', 60, 'Pizza A #1 fino kg 1/3 °C TM'],
    // emoji and symbols dropped, letters around them kept
    ['Pizza 🍕 Margherita', 60, 'Pizza Margherita'],
    ['🇧🇷 Caipirinha 👍🏽 1️⃣ 👨‍👩‍👧', 60, 'Caipirinha 1'],
    ['✓ ★ ♥ ☕ Café', 60, 'Café'],
    // other scripts dropped
    ['寿司 Sushi Суши', 60, 'Sushi'],
    // zero-width and format characters dropped (soft hyphen, BOM, bidi marks, joiners)
    ['a\u200bb\u200cc\u200dd\u2060e\ufefff\u00adg\u200eh\u202ei', 60, 'abcdefghi'],
    ['\u200b\u200d\ufeff', 60, ''],
    // control characters dropped: C0 (not tab/CR/LF/VT/FF), DEL, C1
    ['x\u0001y\u0000z\u001fw\u007fv\u0080u\u009ft', 60, 'xyzwvut'],
    // lone surrogates dropped; paired ones are one code point
    ['a\ud800b\udc00c\udbff', 60, 'abc'],
    ['\ud83c\udf55x', 60, 'x'],
    // private use, unassigned, noncharacters dropped
    ['a\ue000b\u{f0000}c\uffffd\u{10ffff}e', 60, 'abcde'],
    // collapses spaces left by dropped characters, trims, truncates, trims again
    ['Suco 🍇 🍇 🍇 de uva', 60, 'Suco de uva'],
    ['   ', 60, ''],
    ['abc def', 4, 'abc'],
    ['Espera…', 7, 'Espera.'],
    ['€€€', 6, 'EUREUR'],
    // & < > " ' stay (the serializer escapes them)
    [`A & B < C > D "E" 'F'`, 60, `A & B < C > D "E" 'F'`],
  ])('%j (max %i) → %j', (input, max, output) => {
    expect(schemaText(input, max)).toBe(output);
  });
});

/** Any code point, lone surrogate halves included, weighted towards what a POS sends and what breaks. */
const anyCharacter = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: 'grapheme-ascii', minLength: 1, maxLength: 1 }) },
  { weight: 3, arbitrary: fc.integer({ min: 0xa0, max: 0xff }).map((c) => String.fromCharCode(c)) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }) },
  { weight: 2, arbitrary: fc.integer({ min: 0, max: 0x9f }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) },
  { weight: 2, arbitrary: fc.integer({ min: 0x300, max: 0x36f }).map((c) => String.fromCharCode(c)) },
  {
    weight: 2,
    arbitrary: fc.constantFrom(' ', '\t', '\n', '\r', '\u00a0', '\u00ad', '\u200b', '\u200d', '\ufeff', '\u2028', '\u3000'),
  },
  { weight: 2, arbitrary: fc.constantFrom('‘', '’', '“', '”', '–', '—', '…', '€', '•', '№', '🍕', '👍🏽', '🇧🇷', '1️⃣', '𝐀', 'ﬁ') },
  { weight: 1, arbitrary: fc.integer({ min: 0x1f300, max: 0x1faff }).map((c) => String.fromCodePoint(c)) },
);
const anyText = fc.oneof(
  { weight: 4, arbitrary: fc.string({ unit: anyCharacter, maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: anyCharacter, minLength: 100, maxLength: 400 }) },
);

describe('schemaText: what it returns is always a TString (properties)', () => {
  it('only the allowed characters, no edge or double spaces, at most max characters; the schema pattern matches', () => {
    fc.assert(
      fc.property(anyText, fc.integer({ min: 1, max: 200 }), (input, max) => {
        const out = schemaText(input, max);
        expect(out).toMatch(SCHEMA_CHARACTERS);
        expect(out.length).toBeLessThanOrEqual(max);
        expect(out).not.toMatch(/^ | $| {2}/);
        if (out !== '') expect(out).toMatch(TSTRING);
      }),
      { numRuns: 3000 },
    );
  });

  it('is idempotent, and text already in the TString set is kept as it is', () => {
    fc.assert(
      fc.property(anyText, (input) => {
        const once = schemaText(input, 5000);
        expect(schemaText(once, 5000)).toBe(once);
      }),
      { numRuns: 1000 },
    );
    const latin1 = fc
      .integer({ min: 0x21, max: 0xff })
      .filter((c) => c < 0x7f || (c > 0xa0 && c !== 0xad))
      .map((c) => String.fromCharCode(c));
    const word = fc.string({ unit: latin1, minLength: 1, maxLength: 20 });
    fc.assert(
      fc.property(fc.array(word, { minLength: 1, maxLength: 5 }), (words) => {
        // Latin-1 is NFC-stable: every character is kept.
        const text = words.join(' ');
        expect(schemaText(text, 5000)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });
});
