/** The partner name Cielo's webhook secrets are issued under (`npm run integration -- partner-secret --partner cielo`). */
export const CIELO_PARTNER = 'cielo';
