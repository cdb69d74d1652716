/** The partner name e-SiTef's authenticity-URL secrets are issued under (`npm run integration -- partner-secret --partner carat`). */
export const CARAT_PARTNER = 'carat';
