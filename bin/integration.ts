/**
 * Provisioning of POS integrations: creates one (or finds it), issues a bearer token — printed
 * once, stored only as a hash — and, in AWS, registers the integration's key in the API's usage
 * plan so API Gateway throttles it per integration. Also revokes tokens.
 *
 *   npm run integration -- create --id <guid> --name "<store>" --local
 *   npm run integration -- create --id <guid> --name "<store>" --table <IntegrationsTableName> --usage-plan <UsagePlanId>
 *   npm run integration -- revoke --token <token> (--local | --table <IntegrationsTableName>)
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { IntegrationStore, type Integration } from '../functions/auth/integrations.ts';
import { localName } from '../lib/manifest.ts';
import { projectRoot } from '../lib/local/invoke.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/provision.ts';

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    id: { type: 'string' },
    name: { type: 'string' },
    token: { type: 'string' },
    local: { type: 'boolean', default: false },
    table: { type: 'string' },
    'usage-plan': { type: 'string' },
  },
});
const command = positionals[0];

function store(): IntegrationStore {
  if (values.local) {
    const demo = z
      .object({ emulators: z.object({ dynamodb: z.url() }) })
      .parse(JSON.parse(readFileSync(resolve(projectRoot, '.local/demo.json'), 'utf8')));
    const client = new DynamoDBClient({
      region: LOCAL_REGION,
      endpoint: demo.emulators.dynamodb,
      credentials: LOCAL_CREDENTIALS,
    });
    return new IntegrationStore(DynamoDBDocumentClient.from(client), localName.table('integrations'));
  }
  const table = z
    .string()
    .min(1, '--table is required (the IntegrationsTableName output of cdk deploy) unless --local')
    .parse(values.table ?? '');
  return new IntegrationStore(DynamoDBDocumentClient.from(new DynamoDBClient({})), table);
}

/** The usage-plan key carries the integration's usageKey, so the authorizer's answer maps to it. */
async function registerUsageKey(integration: Integration, usagePlanId: string): Promise<void> {
  const gateway = new APIGatewayClient({});
  const name = `integration-${integration.integrationHubServiceId}`;
  const { items = [] } = await gateway.send(new GetApiKeysCommand({ nameQuery: name, includeValues: false }));
  const keyId =
    items.find((k) => k.name === name)?.id ??
    (await gateway.send(new CreateApiKeyCommand({ name, value: integration.usageKey, enabled: true }))).id!;
  try {
    await gateway.send(new CreateUsagePlanKeyCommand({ usagePlanId, keyId, keyType: 'API_KEY' }));
  } catch (error) {
    if ((error as Error).name !== 'ConflictException') throw error; // already in the plan
  }
}

async function main(): Promise<void> {
  if (command === 'create') {
    const id = z
      .string()
      .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/, '--id must be a lower-case GUID')
      .parse(values.id);
    const name = z
      .string()
      .min(1, '--name is required')
      .parse(values.name ?? '');
    const integrations = store();
    const integration = await integrations.ensure(id, name);
    if (!values.local) {
      const usagePlanId = z
        .string()
        .min(1, '--usage-plan is required (the UsagePlanId output of cdk deploy) unless --local')
        .parse(values['usage-plan'] ?? '');
      await registerUsageKey(integration, usagePlanId);
    }
    const token = await integrations.issueToken(integration);
    console.log(`integration ${id} (${integration.name})\ntoken (shown once; give it to the POS vendor): ${token}`);
  } else if (command === 'revoke') {
    const token = z
      .string()
      .min(20, '--token is required')
      .parse(values.token ?? '');
    console.log((await store().revokeToken(token)) ? 'token revoked' : 'no such token');
  } else {
    throw new Error('usage: integration create|revoke … (see the comment at the top of bin/integration.ts)');
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof z.ZodError ? z.prettifyError(error) : error);
  process.exit(1);
});
