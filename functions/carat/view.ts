import { describeStatus, expectedStep, type AmountRange, type Recharge } from './recharge.ts';

/**
 * A recharge as the store reads it (GET /recharges/{id}, and the answer of every step): status
 * and what it means, the step expected next, the store's choice (amount in reais and centavos),
 * the decision, a call whose outcome is unknown, the receipts and every e-SiTef answer. Never the
 * NIT (e-SiTef's key to the transaction) nor any card data, which the backend never holds.
 */
export function rechargeView(recharge: Recharge) {
  const { choice } = recharge;
  return {
    rechargeId: recharge.rechargeId,
    merchantUsn: recharge.merchantUsn,
    orderId: recharge.orderId ?? null,
    status: recharge.status,
    statusDescription: describeStatus(recharge.status),
    expectedStep: expectedStep(recharge),
    nitReceived: recharge.nit !== undefined,
    recharge: choice
      ? {
          dealer: choice.dealer,
          dealerName: recharge.dealers?.[choice.dealer] ?? null,
          ddd: choice.ddd,
          phone: choice.phone,
          amount: choice.amountCentavos / 100,
          amountCentavos: choice.amountCentavos,
          amountKey: choice.amountKey ?? null,
          withPayment: choice.withPayment,
          sentAt: choice.at,
        }
      : null,
    decision: recharge.decision
      ? { confirm: recharge.decision.confirm, by: recharge.decision.by, at: recharge.decision.at }
      : null,
    /** A do or confirm sent whose answer is not known yet: the reconciler settles it. */
    outcomeUnknown: recharge.inFlight ? { step: recharge.inFlight.step, since: recharge.inFlight.since } : null,
    esitefUsn: recharge.esitefUsn ?? null,
    receipts: { customer: recharge.receipts?.customer ?? null, merchant: recharge.receipts?.merchant ?? null },
    settlement:
      recharge.settleAttempts !== undefined
        ? { attempts: recharge.settleAttempts, problem: recharge.settleProblem ?? null }
        : null,
    createdAt: recharge.createdAt,
    updatedAt: recharge.updatedAt,
    steps: recharge.steps,
  };
}

/** A carrier's value for a DDD (GET …/branches): reais and centavos, bonus and validity as e-SiTef gives them. */
export function rangeView(range: AmountRange) {
  return {
    amountKey: range.amountKey,
    category: range.category,
    message: range.message,
    fixed: range.minCentavos === range.maxCentavos,
    minAmount: range.minCentavos / 100,
    maxAmount: range.maxCentavos / 100,
    minAmountCentavos: range.minCentavos,
    maxAmountCentavos: range.maxCentavos,
    bonus: range.bonusCentavos / 100,
    bonusCentavos: range.bonusCentavos,
    bonusPercent: range.bonusPercent,
    validity: range.validity,
    bonusValidity: range.bonusValidity,
  };
}
