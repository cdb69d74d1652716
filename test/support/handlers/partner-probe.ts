import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { IntegrationStore } from '../../../functions/auth/integrations.ts';
import { dynamo } from '../../../functions/shared/aws.ts';
import { json } from '../../../functions/shared/http.ts';
import { httpRoute } from '../../../functions/shared/middleware.ts';
import { partnerIntegration } from '../../../functions/shared/partner.ts';

/**
 * A test-only partner route: checks the secret in the path like a partner webhook, then stores
 * what it received (raw body and content type) so a test can tell whether anything was kept.
 */
const integrations = new IntegrationStore(dynamo(), process.env.TABLE_INTEGRATIONS!);

export const handler = httpRoute(async (event) => {
  const integrationHubServiceId = await partnerIntegration(event, 'probe', integrations);
  const body = event.body === null ? '' : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8').toString('utf8');
  await dynamo().send(
    new PutCommand({
      TableName: process.env.TABLE_PROBE!,
      Item: {
        pk: `NOTICE#${event.requestContext.requestId}`,
        integrationHubServiceId,
        body,
        contentType: event.headers['content-type'] ?? null,
      },
    }),
  );
  return json(200, { integrationHubServiceId });
});
