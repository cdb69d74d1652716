import { CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import {
  buckets as bucketSpecs,
  queues as queueSpecs,
  tables as tableSpecs,
  type BucketName,
  type QueueName,
  type QueueSpec,
  type TableName,
  type TableSpec,
} from './manifest.ts';
import { byName, entriesOf, pascal } from './constructs/names.ts';
import { unsettledRechargeAlarm } from './manifest/carat.ts';
import { pendingVerificationAlarm } from './manifest/cielo.ts';
import { exceptionsAlarm, sweepWindowAlarm } from './manifest/sicoob.ts';
import { contingencyDeadlineAlarm } from './manifest/nfce.ts';

/** Attribute DynamoDB TTL reads (epoch seconds); the local runtime ignores expired items in code. */
const TTL_ATTRIBUTE = 'expiresAt';

/** Tables, bucket and queues: everything holding data, kept (RETAIN) when the stack goes away. */
export class StatefulStack extends Stack {
  readonly tables: Record<TableName, ITable>;
  readonly buckets: Record<BucketName, IBucket>;
  readonly queues: Record<QueueName, IQueue>;
  readonly deadLetterQueues: Record<QueueName, IQueue>;
  readonly alarmsTopic: Topic;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    this.tables = byName(tableSpecs, (name, spec: TableSpec) => {
      const table = new Table(this, `${pascal(name)}Table`, {
        partitionKey: { name: spec.partitionKey, type: AttributeType.STRING },
        sortKey: spec.sortKey ? { name: spec.sortKey, type: AttributeType.STRING } : undefined,
        billingMode: BillingMode.PAY_PER_REQUEST,
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        encryption: TableEncryption.AWS_MANAGED,
        timeToLiveAttribute: TTL_ATTRIBUTE,
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      for (const index of spec.indexes ?? []) {
        table.addGlobalSecondaryIndex({
          indexName: index.name,
          partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
          sortKey: index.sortKey ? { name: index.sortKey, type: AttributeType.STRING } : undefined,
        });
      }
      new CfnOutput(this, `${pascal(name)}TableName`, { value: table.tableName, description: `The ${name} table` });
      return table;
    });

    const accessLogs = new Bucket(this, 'AccessLogsBucket', {
      encryption: BucketEncryption.S3_MANAGED, // server access logging cannot deliver to SSE-KMS buckets
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      lifecycleRules: [{ expiration: Duration.days(2 * 366) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(accessLogs.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the server access log target; logging it into another bucket would only move the problem.',
    });

    this.buckets = byName(
      bucketSpecs,
      (name, spec) =>
        new Bucket(this, `${pascal(name)}Bucket`, {
          encryption: BucketEncryption.S3_MANAGED,
          versioned: true,
          enforceSSL: true,
          blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
          serverAccessLogsBucket: accessLogs,
          serverAccessLogsPrefix: `${name}/`,
          lifecycleRules: [
            {
              // Overwritten or deleted versions are kept as long as current ones: a fiscal XML must
              // survive its retention period whatever happens to its key. No storage-class
              // transition: NFC-e XMLs are a few KiB, under S3's 128 KiB minimum for moving them.
              expiration: Duration.days(spec.retainDays),
              noncurrentVersionExpiration: Duration.days(spec.retainDays),
              abortIncompleteMultipartUploadAfter: Duration.days(7),
            },
          ],
          removalPolicy: RemovalPolicy.RETAIN,
        }),
    );

    // CloudWatch can only publish to an encrypted topic whose key policy lets it use the key,
    // which rules out the AWS-managed aws/sns key.
    const alarmsKey = new Key(this, 'AlarmsKey', {
      description: 'Encrypts the checkout alarms topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    alarmsKey.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.alarmsTopic = new Topic(this, 'AlarmsTopic', { displayName: 'Checkout alarms', masterKey: alarmsKey, enforceSSL: true });
    const alarmAction = new SnsAction(this.alarmsTopic);

    this.deadLetterQueues = byName(
      queueSpecs,
      (name) =>
        new Queue(this, `${pascal(name)}Dlq`, {
          retentionPeriod: Duration.days(14),
          encryption: QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
        }),
    );
    this.queues = byName(
      queueSpecs,
      (name, spec) =>
        new Queue(this, `${pascal(name)}Queue`, {
          visibilityTimeout: Duration.seconds(spec.visibilityTimeoutSeconds),
          retentionPeriod: Duration.days(spec.retentionDays),
          encryption: QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          deadLetterQueue: { queue: this.deadLetterQueues[name], maxReceiveCount: spec.maxReceiveCount },
        }),
    );
    for (const [name, spec] of entriesOf<QueueName, QueueSpec>(queueSpecs)) {
      new Alarm(this, `${pascal(name)}DlqAlarm`, {
        alarmDescription: `Messages in the ${name} dead-letter queue: jobs that failed ${spec.maxReceiveCount} times`,
        metric: this.deadLetterQueues[name].metricApproximateNumberOfMessagesVisible({
          period: Duration.minutes(1),
          statistic: 'Maximum',
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }).addAlarmAction(alarmAction);
    }
    const pending = pendingVerificationAlarm;
    new Alarm(this, 'CieloVerificationsPendingAlarm', {
      alarmDescription: `Cielo claims (PAID, CLOSED, CONFIRMED payments) waiting more than ${pending.thresholdSeconds / 60} minutes for the Order Manager API: nothing acts on them until it answers`,
      metric: new Metric({
        namespace: pending.namespace,
        metricName: pending.metric,
        dimensionsMap: { service: pending.service },
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: pending.thresholdSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data: the sweep found nothing pending (it publishes 0) or did not run (its errors alarm elsewhere).
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alarmAction);
    const deadline = contingencyDeadlineAlarm;
    new Alarm(this, 'ContingencyDeadlineAlarm', {
      alarmDescription: `NFC-e issued in offline contingency still not authorized by SEFAZ within ${deadline.defaultWithinHours} h of their transmission deadline (end of the next business day), or past it: see GET /admin/nfce/contingency`,
      metric: new Metric({
        namespace: deadline.namespace,
        metricName: deadline.metric,
        dimensionsMap: { service: deadline.service },
        period: Duration.minutes(15),
        statistic: 'Maximum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      // The sender publishes every 5 minutes (0 when nothing is close): silence means it stopped, and nothing is being sent.
      treatMissingData: TreatMissingData.BREACHING,
    }).addAlarmAction(alarmAction);
    const window = sweepWindowAlarm;
    new Alarm(this, 'SicoobSweepWindowAlarm', {
      alarmDescription: `A Sicoob liquidation window not done ${window.thresholdSeconds / 3600} h after it closed: its report could not be requested, read or applied (the sweep's log says why); boletos paid in it may still show ABERTO or PAGO`,
      metric: new Metric({
        namespace: window.namespace,
        metricName: window.metric,
        dimensionsMap: { service: window.service },
        period: Duration.minutes(30),
        statistic: 'Maximum',
      }),
      threshold: window.thresholdSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // The sweep publishes every 10 minutes: silence means it stopped, and nothing is reconciled.
      treatMissingData: TreatMissingData.BREACHING,
    }).addAlarmAction(alarmAction);
    const exceptions = exceptionsAlarm;
    new Alarm(this, 'SicoobExceptionsAlarm', {
      alarmDescription:
        'New Sicoob reconciliation exceptions (liquidations of boletos the platform does not have, or contradicting one): finance reviews GET /admin/boletos/exceptions',
      metric: new Metric({
        namespace: exceptions.namespace,
        metricName: exceptions.metric,
        dimensionsMap: { service: exceptions.service },
        period: Duration.hours(1),
        statistic: 'Sum',
      }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    }).addAlarmAction(alarmAction);
    const recharge = unsettledRechargeAlarm;
    new Alarm(this, 'CaratRechargeUnsettledAlarm', {
      alarmDescription: `A mobile recharge left unsettled (PPC, or a do / confirm without e-SiTef's answer) for more than ${recharge.thresholdSeconds / 60} minutes: the customer's money and the carrier's credit are in limbo; the reconciler's log names it and why`,
      metric: new Metric({
        namespace: recharge.namespace,
        metricName: recharge.metric,
        dimensionsMap: { service: recharge.service },
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: recharge.thresholdSeconds,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // The reconciler publishes every 2 minutes (0 when nothing waits): silence means it stopped, and nothing is settled.
      treatMissingData: TreatMissingData.BREACHING,
    }).addAlarmAction(alarmAction);
  }
}
