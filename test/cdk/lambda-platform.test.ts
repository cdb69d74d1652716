import { App, CustomResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogRetention, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Bucket } from 'aws-cdk-lib/aws-s3';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId, Provider } from 'aws-cdk-lib/custom-resources';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { pinLambdaPlatform } from '../../lib/constructs/lambda-platform.ts';
import { functions } from '../../lib/manifest.ts';

type Resources = Record<string, { Type: string; Properties?: any }>;

/**
 * Every Lambda function in a template, and every custom resource's provider (its ServiceToken),
 * as `[logicalId, runtime, architectures]`; a provider that is not a function of the template
 * appears as `[logicalId, 'not a function of this template', serviceToken]`.
 */
function lambdaPlatforms(resources: Resources): [string, unknown, unknown][] {
  const rows: [string, unknown, unknown][] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type === 'AWS::Lambda::Function')
      rows.push([id, resource.Properties.Runtime, resource.Properties.Architectures]);
    if (resource.Type.startsWith('Custom::') || resource.Type === 'AWS::CloudFormation::CustomResource') {
      const token = resource.Properties.ServiceToken;
      const provider = token?.['Fn::GetAtt']?.[1] === 'Arn' ? resources[token['Fn::GetAtt'][0]] : undefined;
      if (provider?.Type !== 'AWS::Lambda::Function') rows.push([id, 'not a function of this template', token]);
    }
  }
  return rows;
}

const NODE_ON_ARM = (rows: [string, unknown, unknown][]) =>
  rows.map(([id]) => [id, 'nodejs22.x', ['arm64']] as [string, unknown, unknown]);

describe('every Lambda the app deploys', () => {
  const { stateful, stateless } = buildApp({ context: { 'aws:cdk:bundling-stacks': [] } });

  it('runs nodejs22.x on arm64, in both stacks, custom resource providers included', () => {
    const all = [stateful, stateless].flatMap((stack) => lambdaPlatforms(Template.fromStack(stack).toJSON().Resources));
    expect(all.length).toBeGreaterThanOrEqual(Object.keys(functions).length);
    expect(all).toEqual(NODE_ON_ARM(all));
  });
});

describe('the pin (lib/constructs/lambda-platform.ts)', () => {
  /** A stack with the functions CDK adds by itself, and a Provider framework over one of ours. */
  function withCdkProvidedFunctions(pinned: boolean) {
    const app = new App();
    if (pinned) pinLambdaPlatform(app);
    const stack = new Stack(app, 'Providers');
    new Bucket(stack, 'Scratch', { autoDeleteObjects: true, removalPolicy: RemovalPolicy.DESTROY });
    new LogRetention(stack, 'Retention', { logGroupName: '/checkout/example', retention: RetentionDays.ONE_WEEK });
    new AwsCustomResource(stack, 'SdkCall', {
      onCreate: {
        service: 'SSM',
        action: 'getParameter',
        parameters: { Name: '/checkout/example' },
        physicalResourceId: PhysicalResourceId.of('example'),
      },
      policy: AwsCustomResourcePolicy.fromSdkCalls({ resources: AwsCustomResourcePolicy.ANY_RESOURCE }),
    });
    const onEvent = new LambdaFunction(stack, 'OnEvent', {
      runtime: Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => ({})'),
    });
    new CustomResource(stack, 'Custom', {
      serviceToken: new Provider(stack, 'Provider', { onEventHandler: onEvent }).serviceToken,
    });
    return { app, stack, resources: Template.fromStack(stack).toJSON().Resources as Resources };
  }

  it("puts CDK's own functions (auto-delete, log retention, AwsCustomResource, Provider) on nodejs22.x / arm64", () => {
    const unpinned = lambdaPlatforms(withCdkProvidedFunctions(false).resources);
    // What CDK gives them by itself: its latest Node, on x86_64 (no Architectures).
    expect(unpinned).toHaveLength(5);
    expect(unpinned).not.toEqual(NODE_ON_ARM(unpinned));

    const { stack, resources } = withCdkProvidedFunctions(true);
    const pinned = lambdaPlatforms(resources);
    expect(pinned).toHaveLength(5);
    expect(pinned).toEqual(NODE_ON_ARM(pinned));
    // cdk-nag's latest-runtime rule is acknowledged for them as for ours, with the same reason.
    const violations = new AwsSolutionsChecks().validateScope(stack).violations as { ruleName: string }[];
    expect(violations.filter((v) => v.ruleName.startsWith('AwsSolutions-L1'))).toEqual([]);
  });

  it('refuses a function on another language instead of rewriting it', () => {
    const app = new App();
    pinLambdaPlatform(app);
    const stack = new Stack(app, 'Python');
    new LambdaFunction(stack, 'Script', {
      runtime: Runtime.PYTHON_3_12,
      handler: 'index.handler',
      code: Code.fromInline('def handler(event, context): return {}'),
    });
    expect(() => app.synth()).toThrow(
      /Python\/Script\/Resource runs python3\.12: every Lambda this app deploys runs Node 22 on ARM64/,
    );
  });
});
