import * as z from 'zod';
import { describe, expect, it } from 'vitest';
import { catalogSchema } from '../../functions/nfce/fiscal.ts';
import { identifier, nfceText } from '../../functions/shared/text.ts';
import { fieldErrors, loneSurrogateErrors } from '../../functions/shared/validation.ts';
import { fixture } from '../support/fixtures.ts';

/** The contract's errors for `value` in a one-field body. */
function errorsOf(field: z.ZodType, value: unknown) {
  const parsed = z.object({ field }).safeParse({ field: value }, { reportInput: true });
  return parsed.success ? parsed.data.field : fieldErrors(parsed.error, 'body').map((e) => e.message);
}

const UNPRINTABLE =
  'body.field must contain a letter, digit or sign the NFC-e can carry (emoji, symbols and invisible characters are dropped)';
const SURROGATE = 'body.field must be valid Unicode text (it contains a lone surrogate)';

describe('identifier(max): sku, orderKey', () => {
  const sku = identifier(10);
  it.each([
    ['  058  ', '058'],
    ['Mesa–2', 'Mesa–2'],
    ['A\u200bB', 'A\u200bB'],
    ['🍕1', '🍕1'],
  ])('accepts %j, trimmed, as sent (the NFC-e maps it)', (value, stored) => {
    expect(errorsOf(sku, value)).toBe(stored);
  });

  it.each([
    ['🍕', [UNPRINTABLE]],
    ['\u200b\u200d\ufeff', [UNPRINTABLE]],
    ['😀\u0301', [UNPRINTABLE]],
    ['\ud800', [SURROGATE]],
    ['A\udc00', [SURROGATE]],
    ['A\u0001', ['body.field must not contain control characters (found U+0001)']],
    ['A\tB', ['body.field must not contain control characters (found U+0009)']],
    ['AB\n', ['body.field must not contain control characters (found U+000A)']],
    ['A\u007f', ['body.field must not contain control characters (found U+007F)']],
    ['A\u0085', ['body.field must not contain control characters (found U+0085)']],
    ['', ['body.field must not be empty']],
    ['   ', ['body.field must not be empty']],
    ['x'.repeat(11), ['body.field must be at most 10 characters']],
    [7, ['body.field must be a string']],
    [undefined, ['body.field is required']],
  ])('refuses %j', (value, messages) => {
    expect(errorsOf(sku, value)).toEqual(messages);
  });
});

describe('nfceText({max, required}): names, units, notes', () => {
  const name = nfceText({ max: 20, required: true });
  const notes = nfceText({ max: 20 }).nullish();

  it('free text may carry tab, CR and LF (they become spaces in the NFC-e)', () => {
    expect(errorsOf(name, 'Suco\tde\r\nuva')).toBe('Suco\tde\r\nuva');
    expect(errorsOf(notes, ' sem gelo\n')).toBe('sem gelo');
  });

  it('refuses other controls, lone surrogates, and required text with nothing printable', () => {
    expect(errorsOf(name, 'Suco\u0001')).toEqual([
      'body.field must not contain control characters other than tab, CR and LF (found U+0001)',
    ]);
    expect(errorsOf(notes, 'x\u001b[31m')).toEqual([
      'body.field must not contain control characters other than tab, CR and LF (found U+001B)',
    ]);
    expect(errorsOf(notes, 'x\u009b')).toEqual([
      'body.field must not contain control characters other than tab, CR and LF (found U+009B)',
    ]);
    expect(errorsOf(notes, '\ud83d')).toEqual([SURROGATE]);
    expect(errorsOf(name, '🍕🍕')).toEqual([UNPRINTABLE]);
    expect(errorsOf(name, '   ')).toEqual(['body.field must not be empty']);
  });

  it('optional text may map to nothing (notes of emoji only): the NFC-e leaves it out', () => {
    expect(errorsOf(notes, '🎂🎉')).toBe('🎂🎉');
    expect(errorsOf(notes, '')).toBe('');
    expect(errorsOf(notes, null)).toBeNull();
  });
});

describe('the catalog’s service fee follows the same rules (cProd, xProd)', () => {
  it('refuses a description of emoji only and a code with a control character', () => {
    const catalog = fixture('nfce/demo-catalog.json');
    catalog.serviceFee.description = '🛎️';
    catalog.serviceFee.code = '9\t9';
    const parsed = catalogSchema.safeParse(catalog, { reportInput: true });
    expect(parsed.success ? [] : fieldErrors(parsed.error, 'catalog').map((e) => e.message)).toEqual([
      'catalog.serviceFee.code must not contain control characters (found U+0009)',
      `catalog.serviceFee.description ${UNPRINTABLE.slice('body.field '.length)}`,
    ]);
  });
});

describe('loneSurrogateErrors: any string in a parsed body, at any depth', () => {
  it('names each string by its path, in document order', () => {
    const body = JSON.parse(
      '{"orderKey":"7","paymentObject":{"methods":[{"methodInfo":"VISA"},{"methodInfo":"x\\udfff"}],"customerDocument":"\\ud800"},"tags":["ok","\\udc00\\ud800"]}',
    );
    expect(loneSurrogateErrors(body)).toEqual([
      {
        key: 'paymentObject.methods.1.methodInfo',
        message: 'body.paymentObject.methods.1.methodInfo must be valid Unicode text (it contains a lone surrogate)',
      },
      {
        key: 'paymentObject.customerDocument',
        message: 'body.paymentObject.customerDocument must be valid Unicode text (it contains a lone surrogate)',
      },
      { key: 'tags.1', message: 'body.tags.1 must be valid Unicode text (it contains a lone surrogate)' },
    ]);
  });

  it('property names too, shown escaped, on the object that holds them', () => {
    const body = JSON.parse('{"paymentObject":{"x\\ud800":{"y":"\\udbff"}}}');
    expect(loneSurrogateErrors(body)).toEqual([
      {
        key: 'paymentObject',
        message:
          'body.paymentObject has a property name that is not valid Unicode text (it contains a lone surrogate): "x\\ud800"',
      },
      {
        key: 'paymentObject.x\\ud800.y',
        message: 'body.paymentObject.x\\ud800.y must be valid Unicode text (it contains a lone surrogate)',
      },
    ]);
    for (const error of loneSurrogateErrors(body)) expect(error.message).not.toMatch(/\p{Cs}/u);
  });

  it('well-paired surrogates (emoji) and other values are fine; a bare string body is named `body`', () => {
    expect(loneSurrogateErrors(JSON.parse('{"a":"\\ud83c\\udf55","b":[1,null,true,{"c":"🍕"}]}'))).toEqual([]);
    expect(loneSurrogateErrors('\ud800')).toEqual([
      { key: 'body', message: 'body must be valid Unicode text (it contains a lone surrogate)' },
    ]);
    expect(loneSurrogateErrors(null)).toEqual([]);
  });

  it('walks a body nested 30 000 deep without overflowing the stack', () => {
    const deep = JSON.parse(`${'['.repeat(30_000)}"\\ud800"${']'.repeat(30_000)}`);
    const errors = loneSurrogateErrors(deep);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.key).toBe(Array.from({ length: 30_000 }, () => '0').join('.'));
  });

  it('lists at most `limit` problems, then says there are more', () => {
    const body = { items: Array.from({ length: 50 }, () => '\ud800') };
    const errors = loneSurrogateErrors(body, 'body', 3);
    expect(errors.map((e) => e.key)).toEqual(['items.0', 'items.1', 'items.2', 'body']);
    expect(errors[3]!.message).toBe('body has more text that is not valid Unicode; only the first 3 are listed');
    expect(loneSurrogateErrors(body)).toHaveLength(21);
  });
});
