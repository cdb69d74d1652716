import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DocumentStore } from './issuer.ts';

/*
 * Its own module: the intake reads finished payments' documents with it, and must not bundle the
 * XML libraries the invoice index's module brings.
 */
/** Fiscal XML in the fiscal bucket (versioned, kept six years). */
export class S3Documents implements DocumentStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(
      new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: `${contentType}; charset=utf-8` }),
    );
  }

  async find(key: string): Promise<string | undefined> {
    try {
      return await this.get(key);
    } catch (error) {
      // NoSuchKey with s3:ListBucket (the functions' read grant has it); 404 from emulators that say less.
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as Error).name === 'NoSuchKey' || status === 404) return undefined;
      throw error;
    }
  }

  async get(key: string): Promise<string> {
    const { Body } = await this.s3.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
    if (!Body) throw new Error(`s3://${this.bucket}/${key} has no body`);
    return Body.transformToString('utf8');
  }
}
