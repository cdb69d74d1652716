import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { envName } from '../../lib/manifest.ts';
import { dynamo } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { header } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { IntegrationStore } from './integrations.ts';
import { bearerToken } from './tokens.ts';
import { z } from 'zod';

const env = readEnv({ [envName.table('integrations')]: z.string().min(1) });
const store = new IntegrationStore(dynamo(), env[envName.table('integrations')]!);

/** Context the authorizer hands to every route handler (requestContext.authorizer). */
export interface AuthorizerContext {
  integrationHubServiceId: string;
}

/**
 * REQUEST authorizer. API Gateway answers 401 when this throws `Unauthorized`. The policy covers
 * every route of the stage because API Gateway caches it per token across routes.
 */
async function authorize(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = bearerToken(header(event.headers, 'authorization'));
  const caller = token ? await store.callerForToken(token) : undefined;
  if (!caller) {
    logger.info('bearer token rejected', { reason: token ? 'unknown' : 'missing or malformed' });
    throw new Error('Unauthorized');
  }
  const context: AuthorizerContext = { integrationHubServiceId: caller.integrationHubServiceId };
  return {
    principalId: caller.integrationHubServiceId,
    usageIdentifierKey: caller.usageKey,
    context: { ...context },
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: stageWildcard(event.methodArn) }],
    },
  };
}

/** Its log lines carry the function's name, request id and cold start, like the routes'. */
export const handler = middy(authorize).use(injectLambdaContext(logger, { resetKeys: true }));

/** arn:aws:execute-api:region:account:apiId/stage/METHOD/path → arn:…:apiId/stage/* */
function stageWildcard(methodArn: string): string {
  const [arnPrefix, apiId, stage] = methodArn.split('/');
  return `${arnPrefix}/${apiId}/${stage}/*`;
}
