import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';

const noBundling = { 'aws:cdk:bundling-stacks': [] };
const { stateful, stateless } = buildApp({ context: noBundling });
// Synthesizes the app, which runs cdk-nag and throws on any unacknowledged error.
const templates = { stateful: Template.fromStack(stateful), stateless: Template.fromStack(stateless) };

/** Every acknowledgement written to a template's Metadata (writeSuppressionsToCloudFormation). */
function acknowledgements(template: Template): { id: string; reason: string }[] {
  return Object.values(template.toJSON().Resources as Record<string, { Metadata?: any }>).flatMap(
    (r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [],
  );
}

describe('cdk-nag AwsSolutions', () => {
  it('reports no unacknowledged error or warning in either stack', () => {
    // cdk-nag 3 reports through the policy-validation plugin, not annotations: run the pack directly.
    for (const stack of [stateful, stateless]) {
      expect(new AwsSolutionsChecks().validateScope(stack).violations).toEqual([]);
    }
  });

  it('leaves no CDK warning or error annotation', () => {
    for (const stack of [stateful, stateless]) {
      expect(Annotations.fromStack(stack).findError('*', Match.anyValue())).toEqual([]);
      expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
    }
  });

  it('acknowledges only the expected rules, each with a specific reason', () => {
    const all = [...acknowledgements(templates.stateful), ...acknowledgements(templates.stateless)];
    expect([...new Set(acknowledgements(templates.stateful).map((a) => a.id))].sort()).toEqual(['AwsSolutions-S1']);
    expect([...new Set(acknowledgements(templates.stateless).map((a) => a.id))].sort()).toEqual([
      'AwsSolutions-APIG2',
      'AwsSolutions-APIG3',
      // Cielo's notification routes: the partner's secret is in the path, checked by the handler.
      'AwsSolutions-APIG4',
      'AwsSolutions-COG4',
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      // The invoice readers' CDK read grant and the issuer's put (object actions need <bucket>/*).
      'AwsSolutions-IAM5[Action::s3:GetBucket*]',
      'AwsSolutions-IAM5[Action::s3:GetObject*]',
      'AwsSolutions-IAM5[Action::s3:List*]',
      'AwsSolutions-IAM5[Resource::CheckoutStateful:ExportsOutputFnGetAttFiscalBucket4E41F0FAArn0F9BD50B/*]',
      // The Cielo webhook puts raw notifications into the partner archive.
      'AwsSolutions-IAM5[Resource::CheckoutStateful:ExportsOutputFnGetAttPartnerArchiveBucket882D876EArnAE1A07BD/*]',
      // DynamoDB writes the boletos table's point-in-time exports under one prefix, new names each day.
      'AwsSolutions-IAM5[Resource::CheckoutStateful:ExportsOutputFnGetAttPartnerArchiveBucket882D876EArnAE1A07BD/exports/pitr/boletos/*]',
      // The recharge routes and the reconciler read each integration's e-SiTef merchant key under one prefix.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:checkout/carat/*]',
      // The Cielo verifier and the issuer read each integration's Order Manager credentials under one prefix.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:checkout/cielo/*]',
      // The issuer reads each integration's secret under one prefix.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:checkout/nfce/*]',
      // The sweep reads each Sicoob account's A1 certificate under one prefix.
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:secretsmanager:<AWS::Region>:<AWS::AccountId>:secret:checkout/sicoob/*]',
      'AwsSolutions-L1',
    ]);
    for (const { id, reason } of all) expect(reason.length, id).toBeGreaterThanOrEqual(30);
  });

  it('passes in a concrete account and region too (as `cdk synth` and `cdk deploy` build it)', () => {
    const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
    process.env.CDK_DEFAULT_ACCOUNT = '123456789012';
    process.env.CDK_DEFAULT_REGION = 'sa-east-1';
    try {
      const concrete = buildApp({ context: noBundling });
      expect(() => concrete.app.synth()).not.toThrow();
      expect(concrete.stateless.region).toBe('sa-east-1');
    } finally {
      for (const [key, value] of Object.entries({ CDK_DEFAULT_ACCOUNT: saved.account, CDK_DEFAULT_REGION: saved.region })) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  it('is wired into the app: a queue without a DLQ or SSL policy fails synthesis', () => {
    const broken = buildApp({ context: noBundling });
    new Queue(broken.stateful, 'Careless');
    expect(() => broken.app.synth()).toThrow(/AwsSolutions-SQS3/);
  });
});
