/** One accepted `Client-Id` / `Access-Token` / `Merchant-Id` header triple. */
export interface CieloCredentials {
  clientId: string;
  accessToken: string;
  /** The merchant whose orders these credentials see; several triples may share one merchant. */
  merchantId: string;
}

/**
 * An order's status: the documented ones, plus the deprecated SDK's APPROVED and REJECTED (only
 * reachable through control.setStatus). Re-entered is stored as "RE-ENTERED"; "RE_ENTERED" is read as it.
 */
export type CieloOrderStatus = 'DRAFT' | 'ENTERED' | 'RE-ENTERED' | 'PAID' | 'CANCELED' | 'CLOSED' | 'APPROVED' | 'REJECTED';

/** An order item as the API answers it; money in integer centavos, timestamps `YYYY-MM-DDThh:mm:ssZ`. */
export interface CieloItem {
  /** uuid */
  id: string;
  sku: string;
  name: string | null;
  description: string | null;
  /** centavos */
  unit_price: number;
  quantity: number;
  /** EACH, HOURS, DAYS, SECONDS, CRATE_OF_12, SIX_PACK, GALLON or LITRE */
  unit_of_measure: string;
  details: string | null;
  /** PTY, UPC, EAN, GTIN or APN */
  sku_type: string | null;
  created_at: string;
  updated_at: string;
}

/** A transaction as the API answers it (snake_case); `amount` in integer centavos. */
export interface CieloTransaction {
  /** uuid */
  id: string;
  external_id: string | null;
  status: 'CONFIRMED' | 'PENDING' | 'CANCELLED';
  terminal_number: string | null;
  authorization_code: string | null;
  /** NSU */
  number: string | null;
  amount: number;
  transaction_type: 'PAYMENT' | 'CANCELLATION';
  payment_fields: {
    /** CREDITO, DEBITO, PIX… */
    primary_product_name: string | null;
    /** A VISTA, PARCELADO LOJA, PARCELADO ADM… */
    secondary_product_name: string | null;
    number_of_quotas: number;
  };
  /** Both null when the sandbox call gave no card. */
  card: { brand: string | null; mask: string | null };
  created_at: string;
  updated_at: string;
}

/**
 * An order as `GET /orders/{id}` answers it: `price` and `remaining` (price less confirmed payments,
 * plus confirmed cancellations) in integer centavos; timestamps `YYYY-MM-DDThh:mm:ssZ` (UTC).
 */
export interface CieloOrder {
  /** uuid */
  id: string;
  number: string | null;
  reference: string | null;
  status: CieloOrderStatus;
  notes: string | null;
  price: number;
  remaining: number;
  created_at: string;
  updated_at: string;
  order_type: 'PAYMENT';
  /** The merchant's 16-digit EC number, derived from its merchantId. */
  merchant: string;
  /** 12 characters derived from the creating Client-Id. */
  source_id: string;
  items: CieloItem[];
  transactions: CieloTransaction[];
}

/**
 * The status-change notification: the whole order in Cielo's current format (serialized with its
 * keys in PostgreSQL jsonb order, as Cielo's example is); `payment_fields` in camelCase.
 */
export interface CieloStatusNotification {
  id: string;
  number: string | null;
  reference: string | null;
  notes: string | null;
  /** centavos */
  price: number;
  /** centavos */
  remaining: number;
  status: CieloOrderStatus;
  created_at: string;
  updated_at: string;
  items: {
    id: string;
    /** Same as id. */
    uuid: string;
    order_id: string;
    sku: string;
    sku_type: string | null;
    name: string | null;
    description: string | null;
    details: string | null;
    quantity: number;
    /** centavos */
    unit_price: number;
    unit_of_measure: string;
    /** Always null: items carry no reference in the API. */
    reference: null;
    created_at: string;
    updated_at: string;
  }[];
  transactions: {
    id: string;
    /** Same as id. */
    uuid: string;
    card: { mask: string | null; brand: string | null };
    /** centavos, a number here */
    amount: number;
    number: string | null;
    status: string;
    created_at: string;
    updated_at: string;
    /** Always "". */
    description: string;
    external_id: string | null;
    terminal_number: string | null;
    transaction_type: string;
    authorization_code: string | null;
    payment_fields: {
      /** The card mask. */
      pan: string | null;
      /** 4 credit, 5 credit PARCELADO ADM, 6 credit PARCELADO LOJA, 8 debit, 28 cancellation; null for PIX (no code documented). */
      v40Code: number | null;
      /** "VENDA A CREDITO", "VENDA A DEBITO", "VENDA PIX", "CANCELAMENTO DE VENDA"; "VENDA" without a product */
      typeName: string;
      /** Primary and secondary product names joined, e.g. "DEBITO A VISTA". */
      productName: string;
      /** Epoch milliseconds of the transaction's created_at. */
      requestDate: number;
      /** The merchant's EC number. */
      merchantCode: string;
      applicationId: 'cielo.launcher';
      numberOfQuotas: number;
      isExternalCall: true;
      applicationName: 'cielo.launcher.ORDER';
      primaryProductName: string | null;
      /** The transaction's id. */
      paymentTransactionId: string;
      secondaryProductName: string | null;
      /** The cancelled payment's id for a CANCELLATION, "0" otherwise. */
      originalTransactionId: string;
    };
  }[];
}

/** The transaction notification, key `trasaction` spelled as Cielo does; amounts and quotas as strings. */
export interface CieloTransactionNotification {
  /** A new uuid per notification. */
  id: string;
  order_id: string;
  trasaction: {
    id: string;
    external_id: string | null;
    description: '';
    status: string;
    terminal_number: string | null;
    authorization_code: string | null;
    number: string | null;
    /** centavos as a decimal string, e.g. "2392" */
    amount: string;
    transaction_type: string;
    payment_fields: { primary_product_name: string | null; secondary_product_name: string | null; number_of_quotas: string };
    card: { brand: string | null; mask: string | null };
  };
}
