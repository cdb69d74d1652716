import type { IncomingMessage } from 'node:http';

/**
 * A simulator's request body as UTF-8 text, or undefined when it is over `maxBytes` (the rest is
 * read and dropped, so the connection stays usable for the answer).
 */
export async function readBody(req: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size <= maxBytes) chunks.push(chunk);
  }
  return size > maxBytes ? undefined : Buffer.concat(chunks).toString('utf8');
}
