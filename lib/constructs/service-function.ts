import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArnFormat, Duration, Stack, Token, Validations } from 'aws-cdk-lib';
import { Table, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat, type BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  envName,
  secrets as secretSpecs,
  tables as tableSpecs,
  type BucketAccess,
  type BucketName,
  type SecretName,
  type FunctionSpec,
  type QueueName,
  type TableName,
  type TableSpec,
} from '../manifest.ts';
import { entriesOf, pascal } from './names.ts';

export const PROJECT_ROOT = fileURLToPath(new URL('../..', import.meta.url));

/**
 * How every function is bundled (the local esbuild, run by `cdk deploy`/`cdk synth`). Exported so
 * the cold-start bench (test/bench/cold-start.ts) bundles with exactly these settings.
 */
export const BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node22',
  mainFields: ['module', 'main'],
  // ESM output has no `require`; some bundled CommonJS dependencies still call it.
  banner: "import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);",
  // Bundle the pinned AWS SDK too, so AWS runs the versions the local tests ran.
  externalModules: [],
  minify: true,
  sourceMap: true,
  sourcesContent: false,
} satisfies BundlingOptions;

/** The stateful resources a function may be granted, keyed by manifest name. */
export interface Resources {
  readonly tables: Record<TableName, ITable>;
  readonly queues: Record<QueueName, IQueue>;
  readonly deadLetterQueues: Record<QueueName, IQueue>;
  readonly buckets: Record<BucketName, IBucket>;
}

export interface ServiceFunctionProps {
  /** The manifest key: the Powertools service name. */
  readonly name: string;
  readonly spec: FunctionSpec;
  readonly resources: Resources;
}

/**
 * One manifest function: Node 22 on ARM64, bundled by the local esbuild, its own log group and a role
 * holding only the grants its manifest entry declares (each with the env var naming the resource).
 */
export class ServiceFunction extends Construct {
  readonly fn: NodejsFunction;
  private readonly role: Role;

  constructor(scope: Construct, id: string, { name, spec, resources }: ServiceFunctionProps) {
    super(scope, id);
    // An explicit role with an inline log policy instead of AWSLambdaBasicExecutionRole, whose
    // logs:* on every log group in the account is broader than this one log group.
    this.role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com') });
    const logGroup = new LogGroup(this, 'Logs', { retention: RetentionDays.THREE_MONTHS });
    logGroup.grantWrite(this.role);

    this.fn = new NodejsFunction(this, 'Function', {
      entry: join(PROJECT_ROOT, spec.entry),
      handler: 'handler',
      description: spec.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      timeout: Duration.seconds(spec.timeoutSeconds),
      memorySize: spec.memoryMb,
      role: this.role,
      logGroup,
      projectRoot: PROJECT_ROOT,
      depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: name,
        POWERTOOLS_LOG_LEVEL: 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
      },
      bundling: { forceDockerBundling: false, ...BUNDLING },
    });
    Validations.of(this.fn.node.defaultChild!).acknowledge({
      id: 'AwsSolutions-L1',
      reason: 'The product brief fixes the Lambda runtime at Node.js 22; a runtime change is a deliberate product decision.',
    });

    for (const [table, access] of entriesOf(spec.tables)) this.useTable(table, resources.tables[table], access);
    for (const queue of spec.sendsTo ?? []) this.sendTo(queue, resources.queues[queue]);
    for (const queue of spec.deadLetters ?? []) {
      // Look at (receive, then make visible again) and delete from the dead-letter queue; sending
      // back to the queue it serves is a `sendsTo` grant of its own.
      this.fn.addEnvironment(envName.dlqUrl(queue), resources.deadLetterQueues[queue].queueUrl);
      resources.deadLetterQueues[queue].grantConsumeMessages(this.fn);
    }
    for (const [bucket, access] of entriesOf(spec.buckets)) this.useBucket(bucket, resources.buckets[bucket], access);
    for (const secret of spec.secrets ?? []) this.readSecrets(secret);
    // A partner's sandbox instead of its production URL: `cdk deploy -c CIELO_API_URL=…`.
    for (const variable of spec.partnerUrls ?? []) {
      const url: unknown = this.node.tryGetContext(variable);
      if (typeof url === 'string' && url !== '') this.fn.addEnvironment(variable, url);
    }
    if (spec.exportsTable) this.exportTable(spec.exportsTable, resources);
    // A queue consumer changes its messages' visibility (retry backoff): it needs the queue's URL.
    if (spec.trigger.kind === 'queue')
      this.fn.addEnvironment(envName.queueUrl(spec.trigger.queue), resources.queues[spec.trigger.queue].queueUrl);
  }

  /** GetSecretValue on every secret under the manifest's prefix (one per integration). */
  private readSecrets(name: SecretName): void {
    const { prefix } = secretSpecs[name];
    this.fn.addEnvironment(envName.secretPrefix(name), prefix);
    const stack = Stack.of(this);
    // Secrets Manager appends 6 random characters to a secret's ARN, hence the trailing wildcard.
    const arn = stack.formatArn({
      service: 'secretsmanager',
      resource: 'secret',
      resourceName: `${prefix}*`,
      arnFormat: ArnFormat.COLON_RESOURCE_NAME,
    });
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['secretsmanager:GetSecretValue'], resources: [arn] }));
    // cdk-nag names the finding after the ARN with unresolved parts as placeholders (<AWS::Region>
    // when the stack is environment-agnostic, the region itself when it is not).
    const named = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
    const finding = `arn:${named(stack.partition, '<AWS::Partition>')}:secretsmanager:${named(stack.region, '<AWS::Region>')}:${named(stack.account, '<AWS::AccountId>')}:secret:${prefix}*`;
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${finding}]`,
      reason: `Each integration has its own secret under ${prefix} (${secretSpecs[name].holds}); the function reads only that prefix.`,
    });
  }

  private useTable(name: TableName, table: ITable, access: 'read' | 'readWrite'): void {
    this.fn.addEnvironment(envName.table(name), table.tableName);
    // CDK grants on a table with indexes cover `<table>/index/*`; the manifest names every index,
    // so grant on the bare table and add exactly those indexes.
    const bare = Table.fromTableArn(this, `${pascal(name)}Table`, table.tableArn);
    if (access === 'read') bare.grantReadData(this.fn);
    else bare.grantReadWriteData(this.fn);
    const { indexes = [] }: TableSpec = tableSpecs[name];
    if (indexes.length > 0) {
      this.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:Query', 'dynamodb:Scan'],
          resources: indexes.map((index) => `${table.tableArn}/index/${index.name}`),
        }),
      );
    }
  }

  /** Point-in-time exports of a table into a bucket prefix: DynamoDB writes the files as this role. */
  private exportTable(target: NonNullable<FunctionSpec['exportsTable']>, resources: ServiceFunctionProps['resources']): void {
    const bucket = resources.buckets[target.bucket];
    this.fn.addEnvironment(envName.bucket(target.bucket), bucket.bucketName);
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:ExportTableToPointInTime'],
        resources: [resources.tables[target.table].tableArn],
      }),
    );
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'],
        resources: [bucket.arnForObjects(`${target.prefix}*`)],
      }),
    );
    const { 'Fn::ImportValue': bucketExport } = Stack.of(this).resolve(Stack.of(bucket).exportValue(bucket.bucketArn));
    Validations.of(this.role).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${bucketExport}/${target.prefix}*]`,
      reason: `DynamoDB writes each export's files under a new name below ${target.prefix}; the role may write there only.`,
    });
  }

  private sendTo(name: QueueName, queue: IQueue): void {
    this.fn.addEnvironment(envName.queueUrl(name), queue.queueUrl);
    queue.grantSendMessages(this.fn);
  }

  private useBucket(name: BucketName, bucket: IBucket, access: BucketAccess): void {
    this.fn.addEnvironment(envName.bucket(name), bucket.bucketName);
    const reads = access === 'read' || access === 'readPut';
    if (reads) bucket.grantRead(this.fn);
    // Put only: no delete, no version or retention changes, so fiscal XML cannot be lost from here.
    if (access !== 'read') {
      this.fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject'], resources: [bucket.arnForObjects('*')] }));
    }
    // cdk-nag names an imported ARN after its export; exportValue returns that import (the export
    // is the one the cross-stack reference creates anyway), so the acknowledgement matches it.
    const { 'Fn::ImportValue': bucketExport } = Stack.of(this).resolve(Stack.of(bucket).exportValue(bucket.bucketArn));
    const wildcards = [`Resource::${bucketExport}/*`];
    if (reads) wildcards.push('Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*');
    for (const finding of wildcards) {
      Validations.of(this.role).acknowledge({
        id: `AwsSolutions-IAM5[${finding}]`,
        reason: `Objects of the ${name} bucket only: object actions need <bucket>/*, and CDK's read action groups stay within that one bucket.`,
      });
    }
  }
}
