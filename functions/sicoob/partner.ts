/** The partner name Sicoob's webhook secrets are issued under (`npm run integration -- partner-secret --partner sicoob`). */
export const SICOOB_PARTNER = 'sicoob';
