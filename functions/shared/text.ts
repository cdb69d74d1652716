import * as z from 'zod';
import { schemaText } from '../nfce/text.ts';

/**
 * Text fields that end up in the NFC-e, checked where the POS sends them. The NFC-e's TString
 * (tiposBasico_v4.00.xsd: `[!-ÿ]{1}[ -ÿ]*[!-ÿ]{1}|[!-ÿ]{1}`, U+0021–U+00FF plus inner spaces)
 * is reached by mapping (`schemaText`: curly quotes, dashes, accents outside Latin-1, emoji), but
 * some input is refused instead of mapped:
 * - a lone surrogate (JSON `"\ud800"`): not Unicode text at all, and DynamoDB cannot store it;
 * - a control character: never printable, and outside XML 1.0 for most of C0; tab, CR and LF are
 *   allowed in free text (they become spaces) but not in identifiers;
 * - in a required field, text of which nothing is left once mapped (only emoji or zero-width
 *   characters): the TString needs at least one character.
 */

export const LONE_SURROGATE = 'must be valid Unicode text (it contains a lone surrogate)';

/** Finds a lone surrogate: in `u` mode a well-paired surrogate is one code point, not a match. */
const SURROGATE = /\p{Cs}/u;
/** C0, DEL and C1. */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
/** C0 but tab, LF and CR, DEL and C1. */
const CONTROL_BUT_LINE_BREAKS = /[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]/;

export function hasLoneSurrogate(text: string): boolean {
  return SURROGATE.test(text);
}

const codePoint = (ch: string) => `U+${ch.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`;

/** Why `text` may not be sent, in the contract's words (`must …`), or undefined when it may. */
export function textProblem(
  text: string,
  options: { max: number; required?: boolean; identifier?: boolean },
): string | undefined {
  if (hasLoneSurrogate(text)) return LONE_SURROGATE;
  const control = (options.identifier ? CONTROL : CONTROL_BUT_LINE_BREAKS).exec(text);
  if (control) {
    return options.identifier
      ? `must not contain control characters (found ${codePoint(control[0])})`
      : `must not contain control characters other than tab, CR and LF (found ${codePoint(control[0])})`;
  }
  // Blank text is "must not be empty" (the schema's min(1)); this is for text that is not blank.
  if (options.required && text.trim() !== '' && schemaText(text, options.max) === '')
    return 'must contain a letter, digit or sign the NFC-e can carry (emoji, symbols and invisible characters are dropped)';
  return undefined;
}

function checked(options: { max: number; required?: boolean; identifier?: boolean }): z.ZodString {
  // The checks run on the text as sent, then it is trimmed and measured as before.
  const text = z.string().superRefine((value, ctx) => {
    const problem = textProblem(value, options);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
  const trimmed = text.trim().max(options.max);
  return options.required ? trimmed.min(1) : trimmed;
}

/**
 * Free text printed in the NFC-e (an item's name and unit, the order's notes): trimmed, at most
 * `max` characters; no lone surrogate, no control character but tab, CR and LF (they become
 * spaces); when `required`, not blank and with something left once mapped to the schema's TString
 * (U+0021–U+00FF plus inner spaces), so an item's name is never only emoji.
 */
export function nfceText(options: { max: number; required?: boolean }): z.ZodString {
  return checked(options);
}

/**
 * An identifier that reaches the NFC-e (an sku as cProd, the order key in infCpl) and keys stored
 * records: required, trimmed, at most `max` characters, no lone surrogate, no control character at
 * all (tab, CR, LF included), and something left once mapped to the schema's TString.
 */
export function identifier(max: number): z.ZodString {
  return checked({ max, required: true, identifier: true });
}
