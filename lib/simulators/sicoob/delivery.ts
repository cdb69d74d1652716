import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';

/** Only this much of a webhook's answer is kept for the delivery history. */
const MAX_ANSWER_CHARS = 1000;

/** What a webhook answered one POST: its HTTP status and body, or status 0 and why nothing came. */
export interface PostResult {
  status: number;
  body: string;
}

/**
 * POSTs `body` (JSON) to `url` on a fresh connection, redirects not followed; resolves with the
 * answer, or status 0 with a Portuguese reason (no answer within `timeoutMs` of real time,
 * connection failure). `requests` tracks the POSTs under way so close() can abort them.
 */
export function postJson(url: string, body: string, timeoutMs: number, requests: Set<ClientRequest>): Promise<PostResult> {
  return new Promise((resolve) => {
    let settled = false;
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (result: PostResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(result);
    };
    const failed = (error: Error) =>
      finish({
        status: 0,
        body: timedOut ? `Tempo de comunicação esgotado (${timeoutMs} ms).` : `Falha de comunicação: ${error.message}`,
      });
    let request: ClientRequest;
    try {
      const target = new URL(url);
      request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
    } catch (error) {
      return failed(error as Error);
    }
    timer = setTimeout(() => {
      timedOut = true;
      request.destroy(new Error('timeout'));
    }, timeoutMs);
    requests.add(request);
    request.on('close', () => requests.delete(request));
    request.on('error', failed);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        if (text.length < MAX_ANSWER_CHARS) text += chunk;
      });
      response.on('error', failed);
      response.on('end', () => finish({ status: response.statusCode ?? 0, body: text.slice(0, MAX_ANSWER_CHARS) }));
    });
    request.end(body);
  });
}
