import type { CieloItem, CieloTransaction } from '../../functions/cielo/notification.ts';

/**
 * The seed's status-change notification (fixtures/cielo/status-change.json) as the parser must read
 * it: its one item and its one transaction (camelCase payment fields → Cielo's snake_case names).
 */
export const SEED_STATUS_ITEM: CieloItem = {
  id: '4389df04-ef19-4217-a969-22cb6e86d8cf',
  sku: '1',
  name: 'TESTE CALLBACK',
  description: 'TESTE CALLBACK',
  unit_price: 2392,
  quantity: 1,
  unit_of_measure: 'EACH',
  details: null,
};

export const SEED_STATUS_TRANSACTION: CieloTransaction = {
  id: 'd7d5cab9-f5b0-4a14-8593-9793a0aae193',
  external_id: '7d7d5cab9-f5b0-4a14-8593-9793a0aae193',
  status: 'CONFIRMED',
  terminal_number: '238232',
  authorization_code: '123562',
  number: '044976',
  amount: 2392,
  transaction_type: 'PAYMENT',
  payment_fields: { primary_product_name: 'DEBITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
  card: { brand: 'MASTERCARD', mask: '************3026' },
  updated_at: '2023-04-04T16:19:37.000Z',
};

/** The seed's transaction notification (fixtures/cielo/transaction.json) as the parser must read its transaction. */
export const SEED_TRANSACTION: CieloTransaction = {
  id: 'f0f0f0f0-f0f0-f0f0-f0f0-f0f0f0f0f0f0',
  external_id: 'f0f0f0f0-f0f0-f0f0-f0f0-f0f0f0f0f0f0',
  status: 'CONFIRMED',
  terminal_number: '###324625',
  authorization_code: '0#1#133',
  number: '##50##',
  amount: 1,
  transaction_type: 'PAYMENT',
  payment_fields: { primary_product_name: 'CREDITO', secondary_product_name: 'A VISTA', number_of_quotas: 0 },
  card: { brand: 'MASTERCARD', mask: '************0566' },
  updated_at: null,
};
