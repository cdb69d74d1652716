import type { CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import type { IConstruct } from 'constructs';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../lib/app.ts';
import { queues, tables } from '../../lib/manifest.ts';

const { stateful } = buildApp({ context: { 'aws:cdk:bundling-stacks': [] } });
const template = Template.fromStack(stateful);
const resources = template.toJSON().Resources as Record<string, { Type: string; Properties: any; DeletionPolicy?: string }>;
const logicalId = (construct: IConstruct) => stateful.getLogicalId(construct.node.defaultChild as CfnElement);
const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);

/** A resource policy statement denying any request not made over TLS. */
const sslOnly = (target: string) =>
  Match.arrayWith([
    Match.objectLike({
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: Match.arrayWith([{ 'Fn::GetAtt': [target, 'Arn'] }]),
    }),
  ]);
const queueSslOnly = (target: string) =>
  Match.arrayWith([
    Match.objectLike({
      Effect: 'Deny',
      Action: 'sqs:*',
      Condition: { Bool: { 'aws:SecureTransport': 'false' } },
      Resource: { 'Fn::GetAtt': [target, 'Arn'] },
    }),
  ]);

describe('tables', () => {
  it('creates exactly one table per manifest entry', () => {
    expect(
      ofType('AWS::DynamoDB::Table')
        .map(([id]) => id)
        .sort(),
    ).toEqual(Object.values(stateful.tables).map(logicalId).sort());
    expect(Object.keys(stateful.tables).sort()).toEqual(Object.keys(tables).sort());
  });

  it('keeps every table: point-in-time recovery, RETAIN, deletion protection', () => {
    for (const [, table] of ofType('AWS::DynamoDB::Table')) {
      expect(table.Properties.PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
      expect(table.DeletionPolicy).toBe('Retain');
    }
  });

  it('builds each table from its manifest entry: on-demand, AWS-managed encryption, TTL on expiresAt', () => {
    expect(resources[logicalId(stateful.tables.integrations)]!.Properties).toEqual({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
      DeletionProtectionEnabled: true,
    });
    expect(resources[logicalId(stateful.tables.payments)]!.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      GlobalSecondaryIndexes: [
        {
          IndexName: 'byEnqueuePending',
          KeySchema: [
            { AttributeName: 'enqueuePending', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        },
      ],
    });
  });
});

describe('fiscal bucket', () => {
  const bucketId = logicalId(stateful.buckets.fiscal);
  const bucket = resources[bucketId]!;
  const accessLogsId = bucket.Properties.LoggingConfiguration.DestinationBucketName.Ref as string;

  it('is encrypted, versioned, private and retained', () => {
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LoggingConfiguration: { LogFilePrefix: 'fiscal/' },
    });
    expect(bucket.DeletionPolicy).toBe('Retain');
  });

  it('keeps every version, current or not, at least five years', () => {
    const [rule, ...others] = bucket.Properties.LifecycleConfiguration.Rules;
    expect(others).toEqual([]);
    expect(rule.ExpirationInDays).toBe(2196);
    expect(rule.ExpirationInDays).toBeGreaterThanOrEqual(5 * 365 + 2);
    expect(rule.Transitions).toBeUndefined();
    expect(rule.NoncurrentVersionExpiration).toEqual({ NoncurrentDays: 2196 });
  });

  it('refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: { Statement: sslOnly(bucketId) },
    });
  });

  it('logs access to an encrypted, SSL-only, private bucket', () => {
    expect(resources[accessLogsId]!.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: accessLogsId },
      PolicyDocument: { Statement: sslOnly(accessLogsId) },
    });
  });
});

describe('queues', () => {
  it('gives every manifest queue its own DLQ with the manifest redrive count and retention', () => {
    for (const [name, spec] of Object.entries(queues)) {
      const queueId = logicalId(stateful.queues[name as keyof typeof queues]);
      const dlqId = logicalId(stateful.deadLetterQueues[name as keyof typeof queues]);
      expect(resources[queueId]!.Properties).toEqual({
        VisibilityTimeout: spec.visibilityTimeoutSeconds,
        MessageRetentionPeriod: spec.retentionDays * 86_400,
        SqsManagedSseEnabled: true,
        RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: spec.maxReceiveCount },
      });
      expect(resources[dlqId]!.Properties).toEqual({ MessageRetentionPeriod: 14 * 86_400, SqsManagedSseEnabled: true });
    }
    expect(resources[logicalId(stateful.queues.nfceRequests)]!.Properties.RedrivePolicy.maxReceiveCount).toBe(5);
  });

  it('makes every queue and DLQ SSL-only', () => {
    const allQueues = [...Object.values(stateful.queues), ...Object.values(stateful.deadLetterQueues)].map(logicalId);
    expect(
      ofType('AWS::SQS::Queue')
        .map(([id]) => id)
        .sort(),
    ).toEqual([...allQueues].sort());
    for (const id of allQueues) {
      template.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: { Statement: queueSslOnly(id) },
      });
    }
  });

  it('alarms on the first message in each DLQ, to the encrypted SSL-only alarms topic', () => {
    const topicId = logicalId(stateful.alarmsTopic);
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    // One per DLQ, the Cielo verifications', the contingency deadline's, the unsettled recharges' and the
    // Sicoob sweep's two (next tests).
    expect(alarms).toHaveLength(Object.keys(queues).length + 5);
    for (const dlq of Object.values(stateful.deadLetterQueues)) {
      expect(alarms).toContainEqual(
        expect.objectContaining({
          Namespace: 'AWS/SQS',
          MetricName: 'ApproximateNumberOfMessagesVisible',
          Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [logicalId(dlq), 'QueueName'] } }],
          Threshold: 1,
          ComparisonOperator: 'GreaterThanOrEqualToThreshold',
          EvaluationPeriods: 1,
          AlarmActions: [{ Ref: topicId }],
        }),
      );
    }
    expect(resources[topicId]!.Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [expect.any(String), 'Arn'] });
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      Topics: [{ Ref: topicId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
  it('alarms when a Cielo claim waits more than an hour for the Order Manager API (the sweep’s metric)', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'Checkout',
        MetricName: 'CieloVerificationOldestPendingSeconds',
        Dimensions: [{ Name: 'service', Value: 'cielo' }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 3600,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: logicalId(stateful.alarmsTopic) }],
      }),
    );
  });
  it('alarms when a contingency NFC-e is still not authorized near its deadline, or the sender stops publishing', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'Checkout',
        MetricName: 'ContingencyNearDeadline',
        Dimensions: [{ Name: 'service', Value: 'nfce' }],
        Statistic: 'Maximum',
        Period: 900,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(stateful.alarmsTopic) }],
      }),
    );
  });
  it('alarms when a Sicoob window is not done 24 h after it closed (or the sweep stops), and when new exceptions appear', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'Checkout',
        MetricName: 'SicoobOldestOpenWindowSeconds',
        Dimensions: [{ Name: 'service', Value: 'sicoob' }],
        Statistic: 'Maximum',
        Period: 1800,
        Threshold: 86_400,
        ComparisonOperator: 'GreaterThanThreshold',
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(stateful.alarmsTopic) }],
      }),
    );
    expect(alarms).toContainEqual(
      expect.objectContaining({
        MetricName: 'SicoobNewExceptions',
        Statistic: 'Sum',
        Period: 3600,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        TreatMissingData: 'notBreaching',
      }),
    );
  });
  it('alarms when a recharge stays unsettled for 15 minutes, or the reconciler stops publishing', () => {
    const alarms = ofType('AWS::CloudWatch::Alarm').map(([, alarm]) => alarm.Properties);
    expect(alarms).toContainEqual(
      expect.objectContaining({
        Namespace: 'Checkout',
        MetricName: 'CaratOldestUnsettledSeconds',
        Dimensions: [{ Name: 'service', Value: 'carat' }],
        Statistic: 'Maximum',
        Period: 300,
        Threshold: 900,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'breaching',
        AlarmActions: [{ Ref: logicalId(stateful.alarmsTopic) }],
      }),
    );
  });
});
