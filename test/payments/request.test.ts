import { describe, expect, it } from 'vitest';
import { fingerprint } from '../../functions/payments/record.ts';
import { validatePaymentRequest } from '../../functions/payments/request.ts';
import { fixture, seedPayment } from '../support/fixtures.ts';

const errorsOf = (body: unknown) => {
  const result = validatePaymentRequest(body);
  if (result.ok) throw new Error('expected the request to be refused');
  return result.errors;
};

describe('the seed examples (003)', () => {
  it('accepts the first payment request and reads its money as centavos', () => {
    const result = validatePaymentRequest(seedPayment());
    expect(result).toMatchObject({
      ok: true,
      payment: {
        amounts: {
          orderAmount: 6100,
          fees: 610,
          discounts: 0,
          total: 6710,
          methods: [{ value: 6710, changeFor: null, change: 0 }],
        },
        customer: null,
      },
    });
  });

  it('4.1 orderKey as a number: the seed message exactly', () => {
    expect(errorsOf(fixture('order-mesa/error-order-key-not-string.json'))).toEqual([
      { key: 'orderKey', message: 'body.orderKey must be a string' },
    ]);
  });

  it('4.2 orderKeyType absent: the seed message, and the body’s other problem too', () => {
    const errors = errorsOf(fixture('order-mesa/error-order-key-type-missing.json'));
    expect(errors).toContainEqual({ key: 'orderKeyType', message: 'body.orderKeyType is required' });
    // The seed's body still sends orderKey as a number; every problem is listed.
    expect(errors).toEqual([
      { key: 'orderKeyType', message: 'body.orderKeyType is required' },
      { key: 'orderKey', message: 'body.orderKey must be a string' },
    ]);
  });

  it('4.3 upper-case GUID: the seed message, first', () => {
    expect(errorsOf(fixture('order-mesa/error-invalid-guid.json'))).toEqual([
      { key: 'integrationHubServiceId', message: 'body.integrationHubServiceId must be a valid GUID' },
      { key: 'orderKeyType', message: 'body.orderKeyType is required' },
      { key: 'orderKey', message: 'body.orderKey must be a string' },
    ]);
  });

  it('4.4 no usable orderKey and no methods', () => {
    expect(errorsOf(fixture('order-mesa/error-order-key-missing-methods-empty.json'))).toEqual([
      { key: 'orderKeyType', message: 'body.orderKeyType is required' },
      { key: 'orderKey', message: 'body.orderKey must be a string' },
      { key: 'paymentObject.methods', message: 'body.paymentObject.methods must have at least 1 item' },
    ]);
  });
});

describe('field messages in the seed’s style', () => {
  it('names nested paths with array indexes', () => {
    const body = seedPayment();
    body.paymentObject.methods[0].method = 'BITCOIN';
    body.paymentObject.methods[0].value = '67.10';
    delete body.paymentObject.methods[0].currency;
    body.paymentObject.printOrderAtPos = 'yes';
    expect(errorsOf(body)).toEqual([
      { key: 'paymentObject.printOrderAtPos', message: 'body.paymentObject.printOrderAtPos must be a boolean' },
      { key: 'paymentObject.methods.0.value', message: 'body.paymentObject.methods.0.value must be a number' },
      { key: 'paymentObject.methods.0.currency', message: 'body.paymentObject.methods.0.currency is required' },
      {
        key: 'paymentObject.methods.0.method',
        message:
          'body.paymentObject.methods.0.method must be one of CREDIT, DEBIT, MEAL_VOUCHER, FOOD_VOUCHER, DIGITAL_WALLET, PIX, CASH, CREDIT_DEBIT, COUPON, REDEEM, PREPAID_REDEEM, OTHER',
      },
    ]);
  });

  it('refuses a body that is not an object', () => {
    expect(errorsOf([1, 2])).toEqual([{ key: 'body', message: 'body must be a JSON object' }]);
    expect(errorsOf(null)).toEqual([{ key: 'body', message: 'body must be a JSON object' }]);
  });

  it('refuses fractions of a centavo, negative amounts and an empty orderKey', () => {
    const body = seedPayment();
    body.paymentObject.methods[0].value = 67.105;
    body.paymentObject.fees = -1;
    body.orderKey = '  ';
    expect(errorsOf(body)).toEqual([
      { key: 'orderKey', message: 'body.orderKey must not be empty' },
      {
        key: 'paymentObject.methods.0.value',
        message: 'body.paymentObject.methods.0.value must be an amount in reais with at most 2 decimal places (whole centavos)',
      },
      { key: 'paymentObject.fees', message: 'body.paymentObject.fees must be at least 0' },
    ]);
  });

  it('accepts 4-decimal notation when it is whole centavos', () => {
    const body = seedPayment();
    body.paymentObject.methods[0].value = 67.1;
    expect(validatePaymentRequest(body).ok).toBe(true);
  });
});

describe('amounts that must add up', () => {
  it('total must be orderAmount + fees − discounts', () => {
    const body = seedPayment();
    body.paymentObject.total = 60;
    body.paymentObject.methods[0].value = 60;
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.total',
        message: 'body.paymentObject.total must equal orderAmount + fees − discounts (61.00 + 6.10 − 0.00 = 67.10), got 60.00',
      },
    ]);
  });

  it('methods must add up to total', () => {
    const body = seedPayment();
    body.paymentObject.methods[0].value = 60;
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.methods',
        message: 'body.paymentObject.methods values must add up to body.paymentObject.total (67.10), got 60.00',
      },
    ]);
  });

  it('removeServiceFee drops the fee from the total', () => {
    const body = seedPayment();
    body.paymentObject.removeServiceFee = true;
    expect(errorsOf(body)[0]).toEqual({
      key: 'paymentObject.total',
      message:
        'body.paymentObject.total must equal orderAmount − discounts, the fee being removed by removeServiceFee (61.00 − 0.00 = 61.00), got 67.10',
    });
    body.paymentObject.total = 61;
    body.paymentObject.methods[0].value = 61;
    expect(validatePaymentRequest(body)).toMatchObject({ ok: true, payment: { amounts: { fees: 0, total: 6100 } } });
  });

  it('discounts and split payments with cash change', () => {
    const body = seedPayment();
    body.paymentObject.discounts = 7.1;
    body.paymentObject.total = 60;
    body.paymentObject.methods = [
      { value: 40, currency: 'BRL', type: 'OFFLINE', method: 'DEBIT', brand: 'ELO' },
      { value: 20, currency: 'BRL', type: 'OFFLINE', method: 'CASH', changeFor: 50 },
    ];
    expect(validatePaymentRequest(body)).toMatchObject({
      ok: true,
      payment: {
        amounts: {
          discounts: 710,
          total: 6000,
          methods: [
            { value: 4000, changeFor: null, change: 0 },
            { value: 2000, changeFor: 5000, change: 3000 },
          ],
        },
      },
    });
  });

  it('discounts may not exceed what is charged', () => {
    const body = seedPayment();
    body.paymentObject.discounts = 70;
    expect(errorsOf(body)).toContainEqual({
      key: 'paymentObject.discounts',
      message: 'body.paymentObject.discounts must not exceed orderAmount + fees (67.10)',
    });
  });
});

describe('methods', () => {
  it('cash needs changeFor, at least the value paid', () => {
    const body = seedPayment();
    body.paymentObject.methods = [{ value: 67.1, currency: 'BRL', type: 'OFFLINE', method: 'CASH' }];
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.methods.0.changeFor',
        message: 'body.paymentObject.methods.0.changeFor is required when method is CASH',
      },
    ]);
    body.paymentObject.methods[0].changeFor = 50;
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.methods.0.changeFor',
        message: 'body.paymentObject.methods.0.changeFor must be at least the value paid in cash (67.10)',
      },
    ]);
  });

  it('brand only on card methods, changeFor only on cash, currency BRL', () => {
    const body = seedPayment();
    body.paymentObject.methods = [{ value: 67.1, currency: 'USD', type: 'ONLINE', method: 'PIX', brand: 'VISA', changeFor: 70 }];
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.methods.0.currency',
        message: 'body.paymentObject.methods.0.currency must be BRL (an NFC-e is issued in reais)',
      },
      {
        key: 'paymentObject.methods.0.brand',
        message:
          'body.paymentObject.methods.0.brand is only allowed for CREDIT, DEBIT, CREDIT_DEBIT, MEAL_VOUCHER, FOOD_VOUCHER (method is PIX)',
      },
      {
        key: 'paymentObject.methods.0.changeFor',
        message: 'body.paymentObject.methods.0.changeFor is only allowed when method is CASH (method is PIX)',
      },
    ]);
  });
});

describe('customer document', () => {
  it('is required when it goes on the receipt', () => {
    const body = seedPayment();
    body.paymentObject.documentInReceipt = true;
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.customerDocument',
        message: 'body.paymentObject.customerDocument is required when body.paymentObject.documentInReceipt is true',
      },
    ]);
  });

  it('must have valid check digits', () => {
    const body = seedPayment();
    body.paymentObject.documentInReceipt = true;
    body.paymentObject.customerDocument = '529.982.247-24';
    expect(errorsOf(body)).toEqual([
      {
        key: 'paymentObject.customerDocument',
        message:
          'body.paymentObject.customerDocument must be a valid CPF (11 digits) or CNPJ (14 characters) with correct check digits',
      },
    ]);
  });

  it('reads a valid CPF or CNPJ', () => {
    const body = seedPayment();
    body.paymentObject.documentInReceipt = true;
    body.paymentObject.customerDocument = '529.982.247-25';
    expect(validatePaymentRequest(body)).toMatchObject({
      ok: true,
      payment: { customer: { kind: 'CPF', number: '52998224725' } },
    });
    body.paymentObject.customerDocument = '12.ABC.345/01DE-35';
    expect(validatePaymentRequest(body)).toMatchObject({
      ok: true,
      payment: { customer: { kind: 'CNPJ', number: '12ABC34501DE35' } },
    });
  });
});

describe('float dust in amounts (found by the gateway fuzz: 5e-324 reached DynamoDB, which refuses it)', () => {
  it('an amount that rounds to 0 centavos is stored as exactly 0', () => {
    const body = seedPayment();
    body.paymentObject.methods[0].changeFor = 5e-324;
    body.paymentObject.discounts = 1e-300;
    const result = validatePaymentRequest(body);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    expect(result.payment.request.paymentObject.methods[0]!.changeFor).toBe(0);
    expect(result.payment.request.paymentObject.discounts).toBe(0);
    expect(result.payment.request.paymentObject.total).toBe(67.1);
  });

  it('a positive amount that rounds to 0 centavos is refused', () => {
    const body = seedPayment();
    body.paymentObject.methods[0].value = 1e-300;
    expect(errorsOf(body)).toContainEqual({
      key: 'paymentObject.methods.0.value',
      message: 'body.paymentObject.methods.0.value must be at least 0.01 (one centavo)',
    });
  });
});

describe('the same request, however it is spelled (fingerprint)', () => {
  const printOf = (body: any) => {
    const result = validatePaymentRequest(body);
    if (!result.ok) throw new Error(JSON.stringify(result.errors));
    return fingerprint(result.payment.request);
  };

  it('null or absent optional fields, an empty customerDocument and key order do not make a new payment', () => {
    const seed = printOf(seedPayment());
    const variants = [
      (b: any) => (b.paymentObject.discounts = null),
      (b: any) => delete b.paymentObject.discounts,
      (b: any) => (b.paymentObject.customerDocument = ''),
      (b: any) => delete b.paymentObject.customerDocument,
      (b: any) => (b.paymentObject.numberPersons = 1.0),
      (b: any) => (b.paymentObject.methods[0].brand = null),
      (b: any) => (b.paymentObject.methods[0].changeFor = 0),
      (b: any) => (b.paymentObject = Object.fromEntries(Object.entries(b.paymentObject).reverse())),
    ];
    for (const change of variants) {
      const body = seedPayment();
      change(body);
      expect(printOf(body)).toBe(seed);
    }
  });

  it('a CPF with or without its punctuation is one customer', () => {
    const spelled = (document: string) => {
      const body = seedPayment();
      Object.assign(body.paymentObject, { customerDocument: document, documentInReceipt: true });
      return printOf(body);
    };
    expect(spelled('529.982.247-25')).toBe(spelled('52998224725'));
    expect(spelled('529.982.247-25')).not.toBe(spelled('11144477735'));
  });

  it('a different value is a different request', () => {
    const body = seedPayment();
    body.paymentObject.numberPersons = 7;
    expect(printOf(body)).not.toBe(printOf(seedPayment()));
    // Persons unknown is not one person: the NFC-e's infCpl differs.
    const unknown = seedPayment();
    delete unknown.paymentObject.numberPersons;
    const nulled = seedPayment();
    nulled.paymentObject.numberPersons = null;
    expect(printOf(unknown)).not.toBe(printOf(seedPayment()));
    expect(printOf(unknown)).toBe(printOf(nulled));
  });
});

describe('orderKey a URL can name', () => {
  it('"." and ".." are refused: no PUT could push their tab', () => {
    for (const orderKey of ['.', '..']) {
      const body = seedPayment();
      body.orderKey = orderKey;
      expect(errorsOf(body)).toEqual([
        { key: 'orderKey', message: 'body.orderKey must not be "." or ".." (a URL path cannot name that order)' },
      ]);
    }
    const dotted = seedPayment();
    dotted.orderKey = '2.1';
    expect(validatePaymentRequest(dotted).ok).toBe(true);
  });
});
