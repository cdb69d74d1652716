import type { CfnElement, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { IResource } from 'aws-cdk-lib/aws-apigateway';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp, type BuildAppOptions } from '../../lib/app.ts';
import { envName, functions, type FunctionSpec } from '../../lib/manifest.ts';

const noBundling = { 'aws:cdk:bundling-stacks': [] };

function build(options: BuildAppOptions = {}) {
  const built = buildApp({ context: noBundling, ...options });
  const template = Template.fromStack(built.stateless);
  const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any }>;
  const { stateless } = built;
  const id = (construct: IConstruct) => stateless.getLogicalId(construct.node.defaultChild as CfnElement);
  /** How the stateless stack refers to a stateful token (an import of the stateful stack's export). */
  const imported = (token: string) => stateless.resolve(token);
  /** Every permission a function's role holds: resource (as JSON) → sorted actions. */
  const grants = (name: string) => {
    const roleId = stateless.getLogicalId(stateless.functions[name]!.role!.node.defaultChild as CfnElement);
    const result: Record<string, string[]> = {};
    for (const r of Object.values(resources)) {
      if (r.Type !== 'AWS::IAM::Policy' || !r.Properties.Roles.some((role: any) => role.Ref === roleId)) continue;
      for (const s of r.Properties.PolicyDocument.Statement) {
        expect(s.Effect).toBe('Allow');
        for (const resource of [s.Resource].flat()) {
          const key = JSON.stringify(resource);
          result[key] = [...new Set([...(result[key] ?? []), ...[s.Action].flat()])].sort();
        }
      }
    }
    return result;
  };
  return { ...built, template, resources, id, imported, grants };
}

const { stateful, stateless, template, resources, id, imported, grants } = build();
/** The CloudFormation properties of the API method at `path`. */
const methodProps = (api: NonNullable<typeof stateless.api>, path: string, method: string) => {
  const segments = path.split('/').filter(Boolean);
  const resource = segments.reduce<IResource | undefined>((parent, part) => parent?.getResource(part), api.restApi.root);
  return resources[stateless.getLogicalId(resource!.node.findChild(method).node.defaultChild as CfnElement)]!.Properties;
};
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const json = (value: unknown) => JSON.stringify(value);

const READ = [
  'dynamodb:BatchGetItem',
  'dynamodb:ConditionCheckItem',
  'dynamodb:DescribeTable',
  'dynamodb:GetItem',
  'dynamodb:GetRecords',
  'dynamodb:GetShardIterator',
  'dynamodb:Query',
  'dynamodb:Scan',
];
const READ_WRITE = [...READ, 'dynamodb:BatchWriteItem', 'dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'].sort();
const LOGS = ['logs:CreateLogStream', 'logs:PutLogEvents'];
const SEND = ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'];

const logGroupOf = (name: string) => {
  const fn = resources[id(stateless.functions[name]!)]!;
  return json({ 'Fn::GetAtt': [fn.Properties.LoggingConfig.LogGroup.Ref, 'Arn'] });
};
const tableArn = (name: keyof typeof stateful.tables) => json(imported(stateful.tables[name].tableArn));
const queueArn = json(imported(stateful.queues.nfceRequests.queueArn));
const paymentsIndex = json({ 'Fn::Join': ['', [imported(stateful.tables.payments.tableArn), '/index/byEnqueuePending']] });

describe('functions', () => {
  it('deploys every manifest function on nodejs22.x / arm64 with the manifest timeout and memory', () => {
    expect(ofType('AWS::Lambda::Function')).toHaveLength(Object.keys(functions).length);
    for (const [name, spec] of Object.entries<FunctionSpec>(functions)) {
      expect(resources[id(stateless.functions[name]!)]!.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        Handler: 'index.handler',
        Timeout: spec.timeoutSeconds,
        MemorySize: spec.memoryMb,
        Description: spec.description,
      });
    }
  });

  it('gives each function its own log group kept three months', () => {
    for (const name of Object.keys(functions)) {
      const logGroupId = resources[id(stateless.functions[name]!)]!.Properties.LoggingConfig.LogGroup.Ref;
      expect(resources[logGroupId]).toMatchObject({ Type: 'AWS::Logs::LogGroup', Properties: { RetentionInDays: 90 } });
    }
  });

  it('sets exactly the environment the manifest implies', () => {
    const base = (name: string) => ({
      POWERTOOLS_SERVICE_NAME: name,
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
    });
    const env = (name: string) => resources[id(stateless.functions[name]!)]!.Properties.Environment.Variables;
    expect(env('authorizer')).toEqual({
      ...base('authorizer'),
      [envName.table('integrations')]: imported(stateful.tables.integrations.tableName),
    });
    const queueing = {
      TABLE_PAYMENTS: imported(stateful.tables.payments.tableName),
      QUEUE_NFCE_REQUESTS_URL: imported(stateful.queues.nfceRequests.queueUrl),
    };
    expect(env('paymentRequeue')).toEqual({ ...base('paymentRequeue'), ...queueing });
    // The intake also reads the fiscal bucket: a finished payment's answer is assembled from it.
    expect(env('paymentIntake')).toEqual({
      ...base('paymentIntake'),
      ...queueing,
      BUCKET_FISCAL: imported(stateful.buckets.fiscal.bucketName),
    });
  });

  it('uses an explicit role per function with no managed policies', () => {
    for (const [, role] of ofType('AWS::IAM::Role').filter(([roleId]) => !roleId.startsWith('CheckoutApi'))) {
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    }
  });
});

describe('least privilege', () => {
  it('lets the authorizer only read the integrations table and write its own logs', () => {
    expect(grants('authorizer')).toEqual({
      [logGroupOf('authorizer')]: LOGS,
      [tableArn('integrations')]: READ,
    });
  });

  it('lets the intake read/write payments (and query its index), send only to nfce-requests and only read fiscal XML', () => {
    const bucketArn = imported(stateful.buckets.fiscal.bucketArn);
    const S3_READ = ['s3:GetBucket*', 's3:GetObject*', 's3:List*'];
    expect(grants('paymentIntake')).toEqual({
      [logGroupOf('paymentIntake')]: LOGS,
      [tableArn('payments')]: READ_WRITE,
      [paymentsIndex]: ['dynamodb:Query', 'dynamodb:Scan'],
      [queueArn]: SEND,
      [json(bucketArn)]: S3_READ,
      [json({ 'Fn::Join': ['', [bucketArn, '/*']] })]: S3_READ,
    });
    expect(Object.keys(grants('paymentIntake'))).not.toContain(tableArn('integrations'));
  });

  it('gives the re-queue sweep the intake’s grants but the bucket', () => {
    expect(grants('paymentRequeue')).toEqual({
      [logGroupOf('paymentRequeue')]: LOGS,
      [tableArn('payments')]: READ_WRITE,
      [paymentsIndex]: ['dynamodb:Query', 'dynamodb:Scan'],
      [queueArn]: SEND,
    });
  });
});

describe('the operator’s dead-letter routes', () => {
  const dlqArn = json(imported(stateful.deadLetterQueues.nfceRequests.queueArn));
  const cieloDlqArn = json(imported(stateful.deadLetterQueues.cieloVerifications.queueArn));
  const cieloQueueArn = json(imported(stateful.queues.cieloVerifications.queueArn));
  const CONSUME = [
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:GetQueueAttributes',
    'sqs:GetQueueUrl',
    'sqs:ReceiveMessage',
  ];

  it('lets the list only look at the dead-letter queues and read payments', () => {
    expect(grants('deadLetterList')).toEqual({
      [logGroupOf('deadLetterList')]: LOGS,
      [tableArn('payments')]: READ,
      [paymentsIndex]: ['dynamodb:Query', 'dynamodb:Scan'],
      [dlqArn]: CONSUME,
      [cieloDlqArn]: CONSUME,
    });
  });

  it('lets the redrive also send back to nfce-requests and cielo-verifications and reopen payments', () => {
    expect(grants('deadLetterRedrive')).toEqual({
      [logGroupOf('deadLetterRedrive')]: LOGS,
      [tableArn('payments')]: READ_WRITE,
      [paymentsIndex]: ['dynamodb:Query', 'dynamodb:Scan'],
      [dlqArn]: CONSUME,
      [cieloDlqArn]: CONSUME,
      [queueArn]: SEND,
      [cieloQueueArn]: SEND,
    });
  });
});

describe('REST API', () => {
  const api = stateless.api!;
  const apiId = id(api.restApi);
  const authorizerId = Object.entries(resources).find(([, r]) => r.Type === 'AWS::ApiGateway::Authorizer')![0];
  const functionArn = (name: string) => ({ 'Fn::GetAtt': [id(stateless.functions[name]!), 'Arn'] });

  it('takes API keys from the authorizer', () => {
    expect(resources[apiId]!.Properties).toMatchObject({
      ApiKeySourceType: 'AUTHORIZER',
      EndpointConfiguration: { Types: ['REGIONAL'] },
      // Handlers get the client's bytes and refuse invalid UTF-8 themselves.
      BinaryMediaTypes: ['*/*'],
    });
  });

  it('has one REQUEST authorizer on the Authorization header, cached 60 s', () => {
    expect(ofType('AWS::ApiGateway::Authorizer')).toHaveLength(1);
    expect(resources[authorizerId]!.Properties).toMatchObject({
      Type: 'REQUEST',
      IdentitySource: 'method.request.header.Authorization',
      AuthorizerResultTtlInSeconds: 60,
      RestApiId: { Ref: apiId },
    });
    expect(json(resources[authorizerId]!.Properties.AuthorizerUri)).toContain(json(functionArn('authorizer')));
  });

  it('routes POS and admin triggers through the authorizer (a usage key on POS routes only), partner routes around it, each to its function', () => {
    const routes = Object.entries<FunctionSpec>(functions).filter(([, spec]) => spec.trigger.kind === 'http');
    expect(ofType('AWS::ApiGateway::Method')).toHaveLength(routes.length);
    expect(routes.map(([, { trigger }]) => trigger.kind === 'http' && trigger.auth).sort()).toEqual([
      ...Array<string>(10).fill('admin'),
      ...Array<string>(13).fill('bearer'),
      // Cielo's notifications (POST and PUT), e-SiTef's authenticity POST, Sicoob's webhook.
      ...Array<string>(4).fill('partner'),
    ]);
    for (const [name, { trigger }] of routes) {
      if (trigger.kind !== 'http') continue;
      const props = methodProps(api, trigger.path, trigger.method);
      expect(props).toMatchObject({
        HttpMethod: trigger.method,
        ...(trigger.auth === 'partner'
          ? { AuthorizationType: 'NONE' }
          : { AuthorizationType: 'CUSTOM', AuthorizerId: { Ref: authorizerId }, ApiKeyRequired: trigger.auth === 'bearer' }),
        Integration: { Type: 'AWS_PROXY', IntegrationHttpMethod: 'POST' },
      });
      expect(json(props.Integration.Uri)).toContain(json(functionArn(name)));
    }
  });

  it('a partner route (test-only fragment): no authorizer, no usage key, its own method throttle', () => {
    const partner = build({
      functions: {
        ...functions,
        probeNotification: {
          entry: 'test/support/handlers/partner-probe.ts',
          description: 'test-only partner webhook',
          trigger: { kind: 'http', method: 'POST', path: '/probe/notifications/{secret}', auth: 'partner', partner: 'probe' },
          timeoutSeconds: 5,
          memoryMb: 128,
        },
      },
    });
    const props =
      partner.resources[
        partner.stateless.getLogicalId(
          partner.stateless.api!.restApi.root.resourceForPath('/probe/notifications/{secret}').node.findChild('POST').node
            .defaultChild as CfnElement,
        )
      ]!.Properties;
    expect(props.AuthorizationType).toBe('NONE');
    expect(props.AuthorizerId).toBeUndefined();
    expect(props.ApiKeyRequired ?? false).toBe(false);
    const [, stage] = Object.entries(partner.resources).find(([, r]) => r.Type === 'AWS::ApiGateway::Stage')!;
    expect(stage.Properties.MethodSettings).toContainEqual({
      HttpMethod: 'POST',
      ResourcePath: '/~1probe~1notifications~1{secret}',
      ThrottlingRateLimit: 50,
      ThrottlingBurstLimit: 100,
      DataTraceEnabled: false,
      LoggingLevel: 'ERROR',
    });
    // The access log names the resource path (with {secret}), never the request path.
    expect(stage.Properties.AccessLogSetting.Format).toContain('$context.resourcePath');
    expect(stage.Properties.AccessLogSetting.Format).not.toContain('$context.path');
  });

  it('a manifest with a route that breaks the auth rules does not synthesize', () => {
    expect(() =>
      build({
        functions: {
          ...functions,
          rogue: { ...functions.deadLetterList, trigger: { ...functions.deadLetterList.trigger, path: '/ops/dead-letters' } },
        },
      }),
    ).toThrow('rogue: admin route /ops/dead-letters must start with /admin/');
  });

  it('deploys stage v1 with JSON access logs, a stage-wide throttle, ERROR method logging and tracing', () => {
    const stages = ofType('AWS::ApiGateway::Stage');
    expect(stages).toHaveLength(1);
    const stage = stages[0]![1];
    expect(stage.Properties).toMatchObject({
      StageName: 'v1',
      TracingEnabled: true,
    });
    // The stage-wide setting first, then each partner route's own throttle (Cielo's POST and PUT, e-SiTef's POST).
    expect(stage.Properties.MethodSettings).toEqual([
      {
        HttpMethod: '*',
        ResourcePath: '/*',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 200,
        ThrottlingBurstLimit: 400,
      },
      ...['POST', 'PUT'].map((HttpMethod) => ({
        HttpMethod,
        ResourcePath: '/~1cielo~1notifications~1{secret}',
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      })),
      ...['/~1carat~1authenticity~1{secret}', '/~1sicoob~1webhook~1{secret}'].map((ResourcePath) => ({
        HttpMethod: 'POST',
        ResourcePath,
        LoggingLevel: 'ERROR',
        DataTraceEnabled: false,
        ThrottlingRateLimit: 50,
        ThrottlingBurstLimit: 100,
      })),
    ]);
    const { DestinationArn, Format } = stage.Properties.AccessLogSetting;
    expect(resources[DestinationArn['Fn::GetAtt'][0]]!.Type).toBe('AWS::Logs::LogGroup');
    expect(JSON.parse(Format)).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it('throttles each integration at 20 requests per second with bursts of 40', () => {
    const plans = ofType('AWS::ApiGateway::UsagePlan');
    expect(plans).toHaveLength(1);
    const [planId, plan] = plans[0]!;
    expect(plan.Properties).toMatchObject({
      Throttle: { RateLimit: 20, BurstLimit: 40 },
      ApiStages: [{ ApiId: { Ref: apiId }, Stage: { Ref: id(api.restApi.deploymentStage) } }],
    });
    template.hasOutput('UsagePlanId', { Value: { Ref: planId } });
    template.hasOutput('ApiUrl', {});
  });

  it('answers gateway errors in the project error format', () => {
    const responses = Object.fromEntries(
      ofType('AWS::ApiGateway::GatewayResponse').map(([, r]) => [
        r.Properties.ResponseType,
        { status: r.Properties.StatusCode, body: JSON.parse(r.Properties.ResponseTemplates['application/json']) },
      ]),
    );
    expect(responses.UNAUTHORIZED).toEqual({
      status: '401',
      body: { errors: [{ key: 'authorization', message: 'missing or unknown bearer token' }] },
    });
    expect(responses.THROTTLED).toEqual({
      status: '429',
      body: {
        errors: [
          {
            key: 'rate',
            message:
              'too many requests: at most 20 per second with bursts of 40 per integration (partner routes: 50 per second with bursts of 100 in all); retry after a pause',
          },
        ],
      },
    });
    expect(responses.QUOTA_EXCEEDED?.status).toBe('429');
    expect(responses.ACCESS_DENIED?.status).toBe('403');
    expect(responses.REQUEST_TOO_LARGE?.status).toBe('413');
    expect(responses.DEFAULT_5XX).toEqual({
      status: undefined,
      body: { errors: [{ key: 'server', message: 'internal error; retry the same request later' }] },
    });
    expect(responses.DEFAULT_4XX?.body).toEqual({ errors: [{ key: 'request', message: 'request rejected' }] });
  });
});

describe('schedules', () => {
  it('runs the re-queue sweep every minute, the inutilização daily, the Cielo verification sweep and the contingency sender every 5 minutes, the recharge reconciler every 2, the Sicoob sweep every 10, the boletos export daily, with retries', () => {
    const rules = ofType('AWS::Events::Rule').map(([, r]) => r.Properties);
    expect(rules).toEqual([
      {
        Description: 'payments whose enqueue failed',
        ScheduleExpression: 'rate(1 minute)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.paymentRequeue!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
          },
        ],
      },
      {
        Description: 'Offline-contingency NFC-e waiting for SEFAZ',
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.nfceContingencySender!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
          },
        ],
      },
      {
        Description: 'Skipped NFC-e numbers to declare unused',
        ScheduleExpression: 'cron(0 6 * * ? *)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.nfceInutilizacao!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 86_400 },
          },
        ],
      },
      {
        Description: 'Cielo verifications left pending',
        ScheduleExpression: 'rate(5 minutes)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.cieloVerifySweep!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 },
          },
        ],
      },
      {
        Description: 'Carat recharges left pending',
        ScheduleExpression: 'rate(2 minutes)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.caratReconciler!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 120 },
          },
        ],
      },
      {
        Description: 'Sicoob liquidation sweep',
        ScheduleExpression: 'rate(10 minutes)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.sicoobSweep!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 600 },
          },
        ],
      },
      {
        Description: 'Boletos table point-in-time export',
        ScheduleExpression: 'cron(0 4 * * ? *)',
        State: 'ENABLED',
        Targets: [
          {
            Id: 'Target0',
            Arn: { 'Fn::GetAtt': [id(stateless.functions.boletoPitrExport!), 'Arn'] },
            RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 86_400 },
          },
        ],
      },
    ]);
  });

  it("gives every scheduled function of the manifest a rule with the manifest's expression, and its name as an output", () => {
    const scheduled = Object.entries<FunctionSpec>(functions).filter(([, spec]) => spec.trigger.kind === 'schedule');
    expect(scheduled.length).toBeGreaterThan(0);
    expect(ofType('AWS::Events::Rule')).toHaveLength(scheduled.length);
    for (const [name, { trigger }] of scheduled) {
      if (trigger.kind !== 'schedule') continue;
      const rule = ofType('AWS::Events::Rule').find(
        ([, r]) => json(r.Properties.Targets[0].Arn) === json({ 'Fn::GetAtt': [id(stateless.functions[name]!), 'Arn'] }),
      );
      expect(rule?.[1].Properties.ScheduleExpression).toBe(trigger.expression);
      // What `npm run job -- <name> --function-name` takes.
      template.hasOutput(`${name.charAt(0).toUpperCase()}${name.slice(1)}FunctionName`, {
        Value: { Ref: id(stateless.functions[name]!) },
      });
    }
  });

  // Test-only scheduled functions: cron expressions pass through as written.
  const tick = (expression: string): FunctionSpec => ({
    entry: 'functions/payments/requeue.handler.ts',
    description: 'test-only schedule',
    trigger: { kind: 'schedule', expression, description: `test ${expression}` },
    timeoutSeconds: 10,
    memoryMb: 128,
  });

  it('passes cron expressions through, dropping events older than the shortest gap between fires (1 minute to 1 day)', () => {
    const built = build({
      functions: {
        quarterHours: tick('cron(0/15 8-17 ? * MON-FRI *)'),
        monthEnd: tick('cron(30 23 L * ? *)'),
        everyMinute: tick('cron(* * * * ? *)'),
        lastFriday: tick('cron(0 18 ? * 6L 2026-2030)'),
      },
    });
    const rules = Object.values(built.resources)
      .filter((r) => r.Type === 'AWS::Events::Rule')
      .map((r) => [r.Properties.ScheduleExpression, r.Properties.Targets[0].RetryPolicy.MaximumEventAgeInSeconds]);
    expect(rules).toEqual([
      ['cron(0/15 8-17 ? * MON-FRI *)', 900],
      ['cron(30 23 L * ? *)', 86_400],
      ['cron(* * * * ? *)', 60],
      ['cron(0 18 ? * 6L 2026-2030)', 86_400],
    ]);
  });

  it('refuses at synth an expression EventBridge would refuse', () => {
    expect(() => build({ functions: { sweep: tick('rate(1 minutes)') } })).toThrow(
      'sweep: invalid schedule expression "rate(1 minutes)": a value of 1 takes the singular unit: rate(1 minute)',
    );
    expect(() => build({ functions: { sweep: tick('cron(0 12 * * ?)') } })).toThrow(
      'sweep: invalid schedule expression "cron(0 12 * * ?)": cron takes 6 fields (minutes hours day-of-month month day-of-week year), got 5',
    );
  });
});

describe('queue triggers', () => {
  const mappings = (stack: Stack) =>
    Object.values(Template.fromStack(stack).findResources('AWS::Lambda::EventSourceMapping')).map((r) => r.Properties);

  it('wires every queue trigger in the manifest with partial batch failures', () => {
    const consumers = Object.entries<FunctionSpec>(functions).filter(([, spec]) => spec.trigger.kind === 'queue');
    expect(mappings(stateless)).toHaveLength(consumers.length);
    for (const [name, { trigger }] of consumers) {
      if (trigger.kind !== 'queue') continue;
      expect(mappings(stateless)).toContainEqual(
        expect.objectContaining({
          FunctionName: { Ref: id(stateless.functions[name]!) },
          EventSourceArn: imported(stateful.queues[trigger.queue].queueArn),
          BatchSize: trigger.batchSize,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
        }),
      );
    }
  });

  // A test-only consumer whose timeout the stack must check against the queue.
  const consumer: FunctionSpec = {
    entry: 'functions/payments/requeue.handler.ts',
    description: 'test-only queue consumer',
    trigger: { kind: 'queue', queue: 'nfceRequests', batchSize: 7, maxConcurrency: 2 },
    timeoutSeconds: 30,
    memoryMb: 256,
    buckets: { fiscal: 'put' },
  };

  it('feeds nfce-requests to the NFC-e issuer one message at a time, cielo-verifications five at a time, reporting batch item failures', () => {
    expect(mappings(stateless)).toEqual([
      {
        FunctionName: { Ref: id(stateless.functions.nfceIssuer!) },
        EventSourceArn: imported(stateful.queues.nfceRequests.queueArn),
        BatchSize: 1,
        ScalingConfig: { MaximumConcurrency: 10 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
      {
        FunctionName: { Ref: id(stateless.functions.cieloVerify!) },
        EventSourceArn: imported(stateful.queues.cieloVerifications.queueArn),
        BatchSize: 5,
        ScalingConfig: { MaximumConcurrency: 2 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    ]);
  });

  it('gives the issuer exactly its tables, the bucket, the queue it consumes and its secrets', () => {
    expect(resources[id(stateless.functions.nfceIssuer!)]!.Properties.Environment.Variables).toEqual({
      POWERTOOLS_SERVICE_NAME: 'nfceIssuer',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      NODE_OPTIONS: '--enable-source-maps',
      TABLE_PAYMENTS: imported(stateful.tables.payments.tableName),
      TABLE_ORDERS: imported(stateful.tables.orders.tableName),
      TABLE_NUMBERING: imported(stateful.tables.numbering.tableName),
      TABLE_INVOICES: imported(stateful.tables.invoices.tableName),
      TABLE_INTEGRATIONS: imported(stateful.tables.integrations.tableName),
      BUCKET_FISCAL: imported(stateful.buckets.fiscal.bucketName),
      TABLE_CIELO_ORDERS: imported(stateful.tables.cieloOrders.tableName),
      QUEUE_NFCE_REQUESTS_URL: imported(stateful.queues.nfceRequests.queueUrl),
      SECRET_PREFIX_NFCE: 'checkout/nfce/',
      SECRET_PREFIX_CIELO: 'checkout/cielo/',
    });
    const issuer = grants('nfceIssuer');
    expect(issuer[queueArn]).toEqual([
      'sqs:ChangeMessageVisibility',
      'sqs:DeleteMessage',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:ReceiveMessage',
    ]);
    for (const table of ['payments', 'orders', 'numbering', 'invoices', 'cieloOrders'] as const)
      expect(issuer[tableArn(table)]).toEqual(READ_WRITE);
    expect(issuer[tableArn('integrations')]).toEqual(READ);
    const secretArn = json({
      'Fn::Join': [
        '',
        [
          'arn:',
          { Ref: 'AWS::Partition' },
          ':secretsmanager:',
          { Ref: 'AWS::Region' },
          ':',
          { Ref: 'AWS::AccountId' },
          ':secret:checkout/nfce/*',
        ],
      ],
    });
    expect(issuer[secretArn]).toEqual(['secretsmanager:GetSecretValue']);
    const bucketArn = imported(stateful.buckets.fiscal.bucketArn);
    // Put only: no delete, no version or retention changes on fiscal XML.
    expect(issuer[json({ 'Fn::Join': ['', [bucketArn, '/*']] })]).toEqual(['s3:PutObject']);
    expect(issuer[json(bucketArn)]).toBeUndefined();
    expect(Object.values(issuer).flat()).not.toContain('sqs:SendMessage');
    // logs, queue, six tables, the payments index, the numbering and invoices indexes and the three Cielo orders indexes, bucket objects, two secret prefixes
    expect(Object.keys(issuer)).toHaveLength(17);
  });

  it('refuses a consumer whose timeout is not below the queue visibility timeout', () => {
    expect(() => build({ functions: { consumer: { ...consumer, timeoutSeconds: 180 } } })).toThrow(/visibility timeout \(180s\)/);
  });
});
