/**
 * Provisioning of POS integrations: creates one (or finds it), issues a bearer token — printed
 * once, stored only as a hash — and, in AWS, registers the integration's key in the API's usage
 * plan so API Gateway throttles it per integration. Also revokes tokens.
 *
 *   npm run integration -- create --id <guid> --name "<store>" --local
 *   npm run integration -- create --id <guid> --name "<store>" --table <IntegrationsTableName> --usage-plan <UsagePlanId>
 *   npm run integration -- revoke --token <token> (--local | --table <IntegrationsTableName>)
 *   npm run integration -- admin-create --name "<operator>" (--local | --table <IntegrationsTableName>)
 *   npm run integration -- partner-secret --id <guid> --partner <cielo|carat|sicoob> (--local | --table …)
 *   npm run integration -- partner-revoke --partner <name> --secret <secret> (--local | --table …)
 *   A1_PASSWORD=… npm run integration -- fiscal --id <guid> --emitter emitter.json --catalog catalog.json \
 *     --pfx a1.p12 [--receipt-columns 48] [--no-offline-contingency] (--local | --table <IntegrationsTableName>)
 *   CIELO_ACCESS_TOKEN=… npm run integration -- cielo --id <guid> --client-id <Client-Id> --merchant-id <Merchant-Id> \
 *     [--invoice-when-paid] [--table-rule '<regex with one group>'] (--local | --table <IntegrationsTableName>)
 *   CARAT_MERCHANT_KEY=… npm run integration -- carat --id <guid> (--local | --aws)
 *   A1_PASSWORD=… npm run integration -- sicoob-account --numero-cliente 707090 --client-id <client_id> --pfx a1.p12 \
 *     (--local | --table <BoletosTableName>)
 *   npm run integration -- sicoob-webhook register|show|delete [--numero-cliente 707090] [--url https://…] [--email …] \
 *     [--webhook-id <idWebhook>] (--local | --table <BoletosTableName>)
 *
 * `admin-create` issues an operator's token for the admin routes (POS routes refuse it; `revoke`
 * revokes it like any token). `partner-secret` issues a secret a partner puts at the end of the
 * integration's partner URLs; several can be valid at once, so rotating is: issue the new one,
 * switch the partner over, `partner-revoke` the old one.
 *
 * `fiscal` stores the emitter (without its CSC) and the catalog in the integrations table and the
 * A1 certificate with its password and the CSC in Secrets Manager (`checkout/nfce/<id>`); the
 * certificate must open with the password and belong to the emitter's CNPJ. Offline contingency
 * (tpEmis 9 when SEFAZ does not answer a sale) is on unless `--no-offline-contingency`: then a
 * payment waits for SEFAZ through the queue's retries.
 *
 * `cielo` stores the integration's Cielo LIO settings (`CIELO#<id>`: issue the NFC-e when Cielo
 * reports an order paid; how notes name a table) and its Order Manager credentials in Secrets
 * Manager (`checkout/cielo/<id>`); the access token comes from the environment, not the command line.
 *
 * `carat` stores the integration's e-SiTef merchant key (the store's `merchant_key` for mobile
 * recharge) in Secrets Manager (`checkout/carat/<id>`), from the environment, not the command line.
 *
 * `sicoob-account` stores a Sicoob account of the platform (its `numeroCliente` and app `client_id`
 * in the boletos table) and its A1 certificate (key and certificate as PEM in Secrets Manager,
 * `checkout/sicoob/<numeroCliente>`): the sweep then includes it. `sicoob-webhook` registers our
 * payment-notice URL with Sicoob (`POST /webhooks`, codigoTipoMovimento 7, codigoPeriodoMovimento 1),
 * shows the registrations and their validation state, or deletes one. Sicoob takes only `https` URLs
 * on port 443: any other is refused here, before anything is sent (the local simulator, with
 * `--local`, takes the local http URL).
 */
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { APIGatewayClient, CreateApiKeyCommand, CreateUsagePlanKeyCommand, GetApiKeysCommand } from '@aws-sdk/client-api-gateway';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import { CreateSecretCommand, PutSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { IntegrationStore, type Integration } from '../functions/auth/integrations.ts';
import { cieloCredentialsSchema, cieloSettingsSchema } from '../functions/cielo/config.ts';
import { openA1 } from '../functions/nfce/pkcs12.ts';
import { fiscalItemSchema, nfceSecretSchema } from '../functions/nfce/config.ts';
import { catalogSchema, emitterSchema } from '../functions/nfce/fiscal.ts';
import { ibsCbsSettings, missingRateYears } from '../functions/nfce/ibs-cbs.ts';
import { GUID } from '../functions/shared/validation.ts';
import { envName, localName, secrets } from '../lib/manifest.ts';
import { caratSecretSchema } from '../functions/carat/wiring.ts';
import { provisionCarat } from '../lib/local/carat.ts';
import { provisionCielo } from '../lib/local/cielo.ts';
import { provisionSicoob } from '../lib/local/sicoob.ts';
import { cobrancaApi, SICOOB_PRODUCTION_AUTH_URL, SICOOB_PRODUCTION_URL } from '../functions/sicoob/api.ts';
import { DynamoBoletos } from '../functions/sicoob/store.ts';
import { sicoobSecretSchema } from '../functions/sicoob/wiring.ts';
import { secretStore } from '../functions/shared/secrets.ts';
import { provisionFiscal } from '../lib/local/fiscal.ts';
import { projectRoot } from '../lib/local/invoke.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../lib/local/provision.ts';

/** A refusal the operator can fix: printed as one line, without a stack trace. */
function fail(message: string): never {
  console.error(`integration: ${message}`);
  process.exit(1);
}

const { positionals, values } = (() => {
  try {
    return parseArgs({
      allowPositionals: true,
      options: {
        id: { type: 'string' },
        name: { type: 'string' },
        token: { type: 'string' },
        partner: { type: 'string' },
        secret: { type: 'string' },
        local: { type: 'boolean', default: false },
        aws: { type: 'boolean', default: false },
        table: { type: 'string' },
        'usage-plan': { type: 'string' },
        emitter: { type: 'string' },
        catalog: { type: 'string' },
        pfx: { type: 'string' },
        'receipt-columns': { type: 'string' },
        'no-offline-contingency': { type: 'boolean', default: false },
        'client-id': { type: 'string' },
        'merchant-id': { type: 'string' },
        'invoice-when-paid': { type: 'boolean', default: false },
        'table-rule': { type: 'string' },
        'numero-cliente': { type: 'string' },
        url: { type: 'string' },
        email: { type: 'string' },
        'webhook-id': { type: 'string' },
      },
    });
  } catch (error) {
    return fail((error as Error).message);
  }
})();
const command = positionals[0];

/** The running `npm start`'s demo.json (emulator URLs), for `--local`. */
function localDemo(): unknown {
  const file = resolve(projectRoot, process.env.LOCAL_DIR || '.local', 'demo.json');
  if (!existsSync(file)) fail(`no ${file}: start the backend with npm start (same LOCAL_DIR) before using --local`);
  return JSON.parse(readFileSync(file, 'utf8'));
}
const guid = z.string({ error: '--id is required' }).regex(GUID, '--id must be a lower-case GUID');
const partnerName = z
  .string({ error: '--partner is required' })
  .regex(/^[a-z]{2,20}$/, '--partner must be a lower-case name such as cielo');

function store(): IntegrationStore {
  if (values.local) return new IntegrationStore(localTarget().db, localName.table('integrations'));
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
  } else if (command === 'admin-create') {
    const name = z
      .string()
      .min(1, '--name is required (who the operator is)')
      .parse(values.name ?? '');
    const token = await store().issueAdminToken(name);
    console.log(`admin ${name}\ntoken (shown once; admin routes only): ${token}`);
  } else if (command === 'partner-secret') {
    const integrations = store();
    const id = guid.parse(values.id);
    const integration = await integrations.get(id);
    if (!integration) throw new Error(`no integration ${id}; create it first`);
    const partner = partnerName.parse(values.partner);
    const secret = await integrations.issuePartnerSecret(integration, partner);
    console.log(`partner ${partner} secret for ${id} (shown once; the last segment of its partner URLs): ${secret}`);
  } else if (command === 'partner-revoke') {
    const partner = partnerName.parse(values.partner);
    const secret = z
      .string()
      .min(20, '--secret is required')
      .parse(values.secret ?? '');
    console.log((await store().revokePartnerSecret(partner, secret)) ? 'secret revoked' : 'no such secret');
  } else if (command === 'fiscal') {
    await storeFiscal();
  } else if (command === 'cielo') {
    await storeCielo();
  } else if (command === 'carat') {
    await storeCarat();
  } else if (command === 'sicoob-account') {
    await storeSicoobAccount();
  } else if (command === 'sicoob-webhook') {
    await sicoobWebhook(positionals[1]);
  } else {
    throw new Error(
      'usage: integration create|revoke|admin-create|partner-secret|partner-revoke|fiscal|cielo|carat|sicoob-account|sicoob-webhook … (see the comment at the top of bin/integration.ts)',
    );
  }
}

/** Creates the secret, or puts a new value in it when it exists (a rotation). */
async function putSecret(name: string, value: string, description: string): Promise<void> {
  const manager = new SecretsManagerClient({});
  try {
    await manager.send(new CreateSecretCommand({ Name: name, SecretString: value, Description: description }));
  } catch (error) {
    if ((error as Error).name !== 'ResourceExistsException') throw error;
    await manager.send(new PutSecretValueCommand({ SecretId: name, SecretString: value }));
  }
}

/** The local integrations table and secrets folder of the running `npm start`. */
function localTarget() {
  const demo = z.object({ emulators: z.object({ dynamodb: z.url() }) }).parse(localDemo());
  const client = new DynamoDBClient({ region: LOCAL_REGION, endpoint: demo.emulators.dynamodb, credentials: LOCAL_CREDENTIALS });
  const env = {
    [envName.table('integrations')]: localName.table('integrations'),
    LOCAL_SECRETS_DIR: resolve(projectRoot, process.env.LOCAL_DIR || '.local', 'secrets'),
  };
  return { db: DynamoDBDocumentClient.from(client), env };
}

async function storeCielo(): Promise<void> {
  const id = guid.parse(values.id);
  const credentials = cieloCredentialsSchema.parse(
    { clientId: values['client-id'], accessToken: process.env.CIELO_ACCESS_TOKEN, merchantId: values['merchant-id'] },
    {
      error: (issue) =>
        `${issue.path?.[0] === 'accessToken' ? 'CIELO_ACCESS_TOKEN' : `--${String(issue.path?.[0]).replace(/Id$/, '-id')}`} is required`,
    },
  );
  const settings = cieloSettingsSchema.parse({
    invoiceWhenPaid: values['invoice-when-paid'],
    ...(values['table-rule'] ? { tableRule: values['table-rule'] } : {}),
  });
  if (values.local) {
    const { db, env } = localTarget();
    await provisionCielo(db, env, { integrationHubServiceId: id, credentials, settings });
    console.log(
      `Cielo setup of ${id} stored locally (merchant ${credentials.merchantId}, invoiceWhenPaid ${settings.invoiceWhenPaid})`,
    );
    return;
  }
  const table = z
    .string()
    .min(1, '--table is required (the IntegrationsTableName output of cdk deploy) unless --local')
    .parse(values.table ?? '');
  await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(
    new PutCommand({ TableName: table, Item: { pk: `CIELO#${id}`, ...settings } }),
  );
  const secretName = `${secrets.cielo.prefix}${id}`;
  await putSecret(secretName, JSON.stringify(credentials), `Cielo Order Manager credentials of integration ${id}`);
  console.log(
    `Cielo setup of ${id} stored: merchant ${credentials.merchantId}, invoiceWhenPaid ${settings.invoiceWhenPaid}; secret ${secretName}`,
  );
}

async function storeCarat(): Promise<void> {
  const id = guid.parse(values.id);
  const { merchantKey } = caratSecretSchema.parse(
    { merchantKey: process.env.CARAT_MERCHANT_KEY },
    { error: () => 'CARAT_MERCHANT_KEY must hold the store’s e-SiTef merchant key (1 to 80 characters)' },
  );
  if (values.local) {
    provisionCarat(localTarget().env, { integrationHubServiceId: id, merchantKey });
    console.log(`Carat merchant key of ${id} stored locally`);
    return;
  }
  if (!values.aws) throw new Error('carat needs --local (the running npm start) or --aws (Secrets Manager)');
  const secretName = `${secrets.carat.prefix}${id}`;
  await putSecret(secretName, JSON.stringify({ merchantKey }), `Carat e-SiTef merchant key of integration ${id}`);
  console.log(`Carat merchant key of ${id} stored: secret ${secretName}`);
}

const numeroCliente = z
  .string({ error: '--numero-cliente is required' })
  .regex(/^\d{1,10}$/, '--numero-cliente must be the contract number (digits), such as 707090');

/** The boletos table: the running npm start's with --local, else --table. */
function boletosTable(): DynamoBoletos {
  if (values.local) return new DynamoBoletos(localTarget().db, localName.table('boletos'));
  const table = z
    .string()
    .min(1, '--table is required (the BoletosTableName output of cdk deploy) unless --local')
    .parse(values.table ?? '');
  return new DynamoBoletos(DynamoDBDocumentClient.from(new DynamoDBClient({})), table);
}

async function storeSicoobAccount(): Promise<void> {
  const cliente = numeroCliente.parse(values['numero-cliente']);
  const clientId = z
    .string({ error: "--client-id is required (the app's client_id in Sicoob's portal)" })
    .min(1)
    .parse(values['client-id']);
  const pfx = readFileSync(resolve(z.string({ error: '--pfx is required' }).min(1).parse(values.pfx)));
  const password = z.string({ error: 'A1_PASSWORD must hold the certificate password' }).parse(process.env.A1_PASSWORD);
  const { privateKeyPem, certificatePem } = openA1(pfx, password);
  if (values.local) {
    const { db, env } = localTarget();
    await provisionSicoob(
      db,
      { ...env, [envName.table('boletos')]: localName.table('boletos') },
      {
        numeroCliente: cliente,
        clientId,
        privateKeyPem,
        certificatePem,
      },
    );
    console.log(`Sicoob account ${cliente} stored locally (client_id ${clientId})`);
    return;
  }
  await boletosTable().putAccount({ numeroCliente: cliente, clientId });
  const secretName = `${secrets.sicoob.prefix}${cliente}`;
  await putSecret(secretName, JSON.stringify({ privateKeyPem, certificatePem }), `Sicoob A1 certificate of account ${cliente}`);
  console.log(`Sicoob account ${cliente} stored: client_id ${clientId}; secret ${secretName}`);
}

/** Registers, shows or deletes the account's payment-notice webhook with Sicoob. */
async function sicoobWebhook(action: string | undefined): Promise<void> {
  if (action !== 'register' && action !== 'show' && action !== 'delete')
    throw new Error('usage: integration sicoob-webhook register|show|delete (see the comment at the top of bin/integration.ts)');
  const local = values.local
    ? z
        .object({ sicoob: z.object({ apiUrl: z.url(), authUrl: z.url(), numeroCliente: z.string(), webhookUrl: z.url() }) })
        .parse(localDemo(), { error: () => 'demo.json has no sicoob section: restart npm start' }).sicoob
    : undefined;
  const cliente = numeroCliente.parse(values['numero-cliente'] ?? local?.numeroCliente);
  const account = (await boletosTable().accounts()).find((a) => a.numeroCliente === cliente);
  if (!account) throw new Error(`no Sicoob account ${cliente}: store it with npm run integration -- sicoob-account`);
  const secretsDir = values.local ? localTarget().env.LOCAL_SECRETS_DIR : undefined;
  const certificate = await secretStore(secretsDir ? { LOCAL_SECRETS_DIR: secretsDir } : {}).get(
    `${secrets.sicoob.prefix}${cliente}`,
  );
  if (!certificate)
    throw new Error(
      `no certificate secret ${secrets.sicoob.prefix}${cliente}: store it with npm run integration -- sicoob-account`,
    );
  const { privateKeyPem, certificatePem } = sicoobSecretSchema.parse(JSON.parse(certificate));
  const api = cobrancaApi(
    { numeroCliente: cliente, clientId: account.clientId, tls: { key: privateKeyPem, cert: certificatePem } },
    {
      apiUrl: local?.apiUrl ?? process.env.SICOOB_API_URL ?? SICOOB_PRODUCTION_URL,
      authUrl: local?.authUrl ?? process.env.SICOOB_AUTH_URL ?? SICOOB_PRODUCTION_AUTH_URL,
      timeoutMs: 30_000,
    },
  );
  if (action === 'register') {
    const url = z.url({ error: '--url must be the full webhook URL, secret included' }).parse(values.url ?? local?.webhookUrl);
    const simulator = local && new URL(local.apiUrl).hostname === '127.0.0.1';
    if (!simulator) assertSicoobTakes(url);
    const idWebhook = await api.registerWebhook(url, values.email);
    console.log(
      `webhook ${idWebhook} registered for account ${cliente}; Sicoob now validates the URL (show: codigoSituacao 2 once it answered)`,
    );
  } else if (action === 'delete') {
    const id = z
      .string({ error: '--webhook-id is required' })
      .regex(/^\d{1,20}$/, '--webhook-id must be digits')
      .parse(values['webhook-id']);
    await api.deleteWebhook(id);
    console.log(`webhook ${id} deleted`);
  }
  if (action !== 'delete') {
    const hooks = await api.webhooks();
    if (hooks.length === 0) console.log(`account ${cliente} has no webhook registered`);
    // The URL's last segment is our secret: shown only as its first characters.
    for (const hook of hooks)
      console.log(
        `webhook ${hook.idWebhook}: ${hook.codigoSituacao} ${hook.descricaoSituacao}${hook.descricaoMotivoInativacao ? ` (${hook.descricaoMotivoInativacao})` : ''} — ${hook.url.replace(/\/([^/]{4})[^/]*$/, '/$1…')}`,
      );
  }
}

/** Sicoob takes only https URLs on port 443 (spec §2.1): refused here with the reason, never sent. */
function assertSicoobTakes(url: string): void {
  const target = new URL(url);
  if (target.protocol !== 'https:' || (target.port !== '' && target.port !== '443'))
    throw new Error(
      `Sicoob takes only https URLs on port 443 for webhooks; ${target.protocol}//${target.host} is not one: put the API behind https on 443 (the deployed API Gateway URL is)`,
    );
}

async function storeFiscal(): Promise<void> {
  const id = guid.parse(values.id);
  const file = (flag: 'emitter' | 'catalog' | 'pfx') =>
    resolve(
      z
        .string()
        .min(1, `--${flag} is required`)
        .parse(values[flag] ?? ''),
    );
  const emitter = emitterSchema.parse(JSON.parse(readFileSync(file('emitter'), 'utf8')));
  const catalog = catalogSchema.parse(JSON.parse(readFileSync(file('catalog'), 'utf8')));
  const pfx = readFileSync(file('pfx'));
  const password = z.string({ error: 'A1_PASSWORD must hold the certificate password' }).parse(process.env.A1_PASSWORD);
  const certificate = openA1(pfx, password);
  if (certificate.cnpj !== emitter.cnpj)
    throw new Error(`the certificate belongs to CNPJ ${certificate.cnpj}, the emitter is ${emitter.cnpj}`);
  const receiptColumns = values['receipt-columns'] === '48' ? 48 : 32;
  const offlineContingency = !values['no-offline-contingency'];
  for (const year of missingRateYears(ibsCbsSettings(catalog.ibsCbs), emitter.crt, new Date())) {
    console.warn(
      `warning: no IBS/CBS rate for ${year} in catalog.ibsCbs.rates; from ${year} every NFC-e of this CRT ${emitter.crt} emitter fails until one is set`,
    );
  }

  if (values.local) {
    const demo = z.object({ sefaz: z.object({ url: z.url() }) }).parse(localDemo());
    const { db, env } = localTarget();
    await provisionFiscal(db, env, demo.sefaz.url, {
      integrationHubServiceId: id,
      emitter,
      catalog,
      receiptColumns,
      offlineContingency,
      pfx,
      password,
    });
    console.log(`fiscal setup of ${id} stored locally (restart npm start so its SEFAZ simulator learns the CSC)`);
    return;
  }
  const table = z
    .string()
    .min(1, '--table is required (the IntegrationsTableName output of cdk deploy) unless --local')
    .parse(values.table ?? '');
  const { csc, ...stored } = emitter;
  const item = fiscalItemSchema.parse({ emitter: stored, catalog, receiptColumns, offlineContingency });
  await DynamoDBDocumentClient.from(new DynamoDBClient({})).send(
    new PutCommand({ TableName: table, Item: { pk: `FISCAL#${id}`, ...item } }),
  );
  const secretName = `${secrets.nfce.prefix}${id}`;
  const { privateKeyPem, certificatePem } = certificate;
  const secretString = JSON.stringify(nfceSecretSchema.parse({ privateKeyPem, certificatePem, csc }));
  await putSecret(secretName, secretString, `A1 certificate and CSC of integration ${id}`);
  console.log(
    `fiscal setup of ${id} stored: emitter ${emitter.cnpj} série ${emitter.serie}, tpAmb ${emitter.tpAmb}, offline contingency ${offlineContingency ? 'on' : 'off'}; secret ${secretName}`,
  );
}

main().catch((error: unknown) => {
  // One line for the operator; the stack only with DEBUG set.
  if (process.env.DEBUG) console.error(error);
  fail(error instanceof z.ZodError ? z.prettifyError(error).replace(/\n/g, '; ') : (error as Error).message);
});
