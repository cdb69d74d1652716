import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, CrossStackReferences, ReferenceStrength, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { pinLambdaPlatform } from './constructs/lambda-platform.ts';
import { PROJECT_ROOT } from './constructs/service-function.ts';
import type { FunctionSpec } from './manifest.ts';
import { StatefulStack } from './stateful-stack.ts';
import { StatelessStack } from './stateless-stack.ts';

export interface BuildAppOptions {
  /** Extra context, e.g. `{ 'aws:cdk:bundling-stacks': [] }` to skip bundling in tests. */
  readonly context?: Record<string, unknown>;
  /** Functions for the stateless stack; the manifest's by default. */
  readonly functions?: Readonly<Record<string, FunctionSpec>>;
}

export interface CheckoutApp {
  readonly app: App;
  readonly stateful: StatefulStack;
  readonly stateless: StatelessStack;
}

/** The CDK app `bin/app.ts` synthesizes; tests build the same one without bundling. */
export function buildApp(options: BuildAppOptions = {}): CheckoutApp {
  // cdk.json's feature flags, so an app built outside the CLI (tests) synthesizes the same templates.
  const cdkJson = JSON.parse(readFileSync(join(PROJECT_ROOT, 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
  const app = new App({ context: { ...cdkJson.context, ...options.context } });
  const account = process.env.CDK_DEFAULT_ACCOUNT;
  const region = process.env.CDK_DEFAULT_REGION;
  const env = account || region ? { account, region } : undefined;
  // Strong (Export/ImportValue): CloudFormation refuses to remove a table, bucket or queue the
  // stateless stack still uses.
  CrossStackReferences.of(app).consume(ReferenceStrength.STRONG);

  const stateful = new StatefulStack(app, 'CheckoutStateful', { env, description: 'Checkout backend: tables, bucket, queues' });
  const stateless = new StatelessStack(app, 'CheckoutStateless', {
    env,
    description: 'Checkout backend: functions, API, schedules',
    resources: stateful,
    functions: options.functions,
  });

  // Every Lambda on Node 22 / ARM64, those CDK adds by itself (custom resource providers) included.
  pinLambdaPlatform(app);

  // cdk-nag 3.x runs as a policy-validation plugin: synthesis fails on any unacknowledged error.
  // Acknowledgements are also written to the templates' Metadata as an audit trail.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true, writeSuppressionsToCloudFormation: true }));
  return { app, stateful, stateless };
}
