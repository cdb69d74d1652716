import { Logger } from '@aws-lambda-powertools/logger';

/**
 * One Powertools logger per function (service name from POWERTOOLS_SERVICE_NAME). Callers log ids
 * and states only: never a CPF/CNPJ, card data, token or key material.
 */
export const logger = new Logger();
