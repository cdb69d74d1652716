import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { Construct } from 'constructs';
import { CheckoutApi } from './constructs/checkout-api.ts';
import { pascal } from './constructs/names.ts';
import { ServiceFunction, type Resources } from './constructs/service-function.ts';
import { assertRoutes, functions as manifestFunctions, queues, type FunctionSpec, type HttpTrigger } from './manifest.ts';
import { readSchedules, shortestInterval } from './schedule.ts';

export interface StatelessStackProps extends StackProps {
  /** Tables, queues and buckets from the stateful stack. */
  readonly resources: Resources;
  /** The functions to deploy; the manifest's, unless a test passes its own. */
  readonly functions?: Readonly<Record<string, FunctionSpec>>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The manifest's functions and their triggers: the REST API, SQS event sources and schedules. */
export class StatelessStack extends Stack {
  readonly functions: Record<string, NodejsFunction>;
  readonly api?: CheckoutApi;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    const specs: [string, FunctionSpec][] = Object.entries(props.functions ?? manifestFunctions);
    assertRoutes(Object.fromEntries(specs));
    // Read before anything is built: an expression EventBridge would refuse fails the synth.
    const schedules = readSchedules(Object.fromEntries(specs));

    this.functions = Object.fromEntries(
      specs.map(([name, spec]) => [name, new ServiceFunction(this, pascal(name), { name, spec, resources: props.resources }).fn]),
    );
    const fn = (name: string) => this.functions[name]!;

    const authorizers = specs.filter(([, spec]) => spec.trigger.kind === 'authorizer').map(([name]) => name);
    const routes = specs.filter(([, spec]) => spec.trigger.kind === 'http');
    if (routes.length > 0) {
      if (authorizers.length !== 1)
        throw new Error(`HTTP routes need exactly one authorizer function; found ${authorizers.length}`);
      this.api = new CheckoutApi(this, 'CheckoutApi', {
        authorizer: fn(authorizers[0]!),
        routes: routes.map(([, spec]) => spec.trigger as HttpTrigger),
      });
      new CfnOutput(this, 'ApiUrl', { value: this.api.restApi.url, description: 'Base URL of the v1 stage' });
      new CfnOutput(this, 'UsagePlanId', {
        value: this.api.usagePlan.usagePlanId,
        description: 'Usage plan the provisioning CLI adds each integration API key to',
      });
    }

    for (const [name, spec] of specs) {
      const trigger = spec.trigger;
      switch (trigger.kind) {
        case 'http':
          this.api!.addRoute(trigger, fn(name));
          break;
        case 'queue': {
          const visibility = queues[trigger.queue].visibilityTimeoutSeconds;
          if (spec.timeoutSeconds >= visibility) {
            throw new Error(
              `${name}: timeout ${spec.timeoutSeconds}s must be below ${trigger.queue}'s visibility timeout (${visibility}s)`,
            );
          }
          fn(name).addEventSource(
            new SqsEventSource(props.resources.queues[trigger.queue], {
              batchSize: trigger.batchSize,
              maxConcurrency: trigger.maxConcurrency,
              reportBatchItemFailures: true,
            }),
          );
          break;
        }
        case 'schedule': {
          // A missed fire is covered by the next one, so events older than the shortest gap between
          // two fires are dropped (within the target's limits: 1 minute to 24 hours).
          const gap = shortestInterval(schedules[name]!) ?? DAY_MS;
          new Rule(this, `${pascal(name)}Schedule`, {
            description: trigger.description,
            schedule: Schedule.expression(trigger.expression),
            targets: [
              new LambdaFunction(fn(name), {
                retryAttempts: 2,
                maxEventAge: Duration.seconds(Math.min(DAY_MS, Math.max(60_000, gap)) / 1000),
              }),
            ],
          });
          // What `npm run job -- <name> --aws` invokes.
          new CfnOutput(this, `${pascal(name)}FunctionName`, {
            value: fn(name).functionName,
            description: `Lambda function of the scheduled ${name}: npm run job -- ${name} --function-name <this>`,
          });
          break;
        }
        case 'authorizer':
          break;
      }
    }
  }
}
