import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent, PolicyDocument } from 'aws-lambda';
import { envName } from '../../lib/manifest.ts';
import { dynamo } from '../shared/aws.ts';
import { readEnv } from '../shared/env.ts';
import { header } from '../shared/http.ts';
import { logger } from '../shared/logger.ts';
import { IntegrationStore } from './integrations.ts';
import { bearerToken } from './tokens.ts';
import * as z from 'zod';

const env = readEnv({ [envName.table('integrations')]: z.string().min(1) });
const store = new IntegrationStore(dynamo(), env[envName.table('integrations')]!);

/**
 * Context the authorizer hands to every route handler (requestContext.authorizer): the caller's
 * kind and who it is. API Gateway passes context values as strings.
 */
export type AuthorizerContext = { kind: 'pos'; integrationHubServiceId: string } | { kind: 'admin'; adminName: string };

/** Admin routes live under this prefix (the manifest refuses any other); POS routes never do. */
export const ADMIN_PREFIX = '/admin/';
const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * REQUEST authorizer. API Gateway answers 401 when this throws `Unauthorized`, 403 when the policy
 * does not allow the route. API Gateway caches the policy per token across routes, so it covers
 * every route of the token's kind: admin tokens the routes under /admin/, POS tokens all others.
 */
async function authorize(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = bearerToken(header(event.headers, 'authorization'));
  const caller = token ? await store.callerForToken(token) : undefined;
  if (!caller) {
    logger.info('bearer token rejected', { reason: token ? 'unknown' : 'missing or malformed' });
    throw new Error('Unauthorized');
  }
  // arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path>
  const [api, stage] = event.methodArn.split('/');
  const adminRoutes = METHODS.map((method) => `${api}/${stage}/${method}${ADMIN_PREFIX}*`);
  const statement = (Effect: 'Allow' | 'Deny', Resource: string | string[]) => ({
    Action: 'execute-api:Invoke',
    Effect,
    Resource,
  });
  const policyDocument: PolicyDocument = {
    Version: '2012-10-17',
    Statement:
      caller.kind === 'admin'
        ? [statement('Allow', adminRoutes)]
        : [statement('Allow', `${api}/${stage}/*`), statement('Deny', adminRoutes)],
  };
  if (caller.kind === 'admin') {
    const context: AuthorizerContext = { kind: 'admin', adminName: caller.adminName };
    return { principalId: `admin:${caller.adminName}`, context, policyDocument };
  }
  const context: AuthorizerContext = { kind: 'pos', integrationHubServiceId: caller.integrationHubServiceId };
  return { principalId: caller.integrationHubServiceId, usageIdentifierKey: caller.usageKey, context, policyDocument };
}

/** Its log lines carry the function's name, request id and cold start, like the routes'. */
export const handler = middy(authorize).use(injectLambdaContext(logger, { resetKeys: true }));
