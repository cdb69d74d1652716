import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { createSqsServer } from 'local-aws-sqs';

const require = createRequire(import.meta.url);

export interface Emulators {
  dynamodb: string;
  sqs: string;
  s3: string;
  close(): Promise<void>;
}

/**
 * DynamoDB (dynalite), SQS (local-aws-sqs, JSON protocol) and S3 (s3rver) on 127.0.0.1, on free
 * ports. With `dataDir`, DynamoDB and S3 keep their data there across restarts; without it,
 * everything lives in memory (tests). The SQS emulator always keeps messages in memory only.
 */
export async function startEmulators(dataDir?: string): Promise<Emulators> {
  const dynalite = require('dynalite') as (options: object) => Server;
  const S3rver = require('s3rver') as new (options: object) => { run(): Promise<AddressInfo>; close(): Promise<void> };

  if (dataDir) {
    mkdirSync(`${dataDir}/dynamodb`, { recursive: true });
    mkdirSync(`${dataDir}/s3`, { recursive: true });
  }
  const dynamoServer = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(dataDir ? { path: `${dataDir}/dynamodb` } : {}),
  });
  await new Promise<void>((resolve) => dynamoServer.listen(0, '127.0.0.1', resolve));

  const sqsServer = (await createSqsServer({
    port: 0,
    hostname: '127.0.0.1',
    emulateQueueCreationLifecycle: false,
  })) as unknown as Server;

  const s3rver = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    ...(dataDir ? { directory: `${dataDir}/s3` } : { directory: `${tmpDir()}`, resetOnClose: true }),
  });
  const s3Address = await s3rver.run();

  const url = (address: AddressInfo | string | null) => `http://127.0.0.1:${(address as AddressInfo).port}`;
  return {
    dynamodb: url(dynamoServer.address()),
    sqs: url(sqsServer.address()),
    s3: url(s3Address),
    async close() {
      await Promise.all([
        new Promise<void>((resolve) => dynamoServer.close(() => resolve())),
        new Promise<void>((resolve) => {
          sqsServer.closeAllConnections?.();
          sqsServer.close(() => resolve());
        }),
        s3rver.close(),
      ]);
    },
  };
}

function tmpDir(): string {
  const dir = `${require('node:os').tmpdir()}/checkout-s3-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  mkdirSync(dir, { recursive: true });
  return dir;
}
