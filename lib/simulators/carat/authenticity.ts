import { request as httpRequest, type ClientRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AuthenticityMode, AuthenticityPost } from './types.ts';

/** Only this much of the store's answer is kept for control.authenticityPosts(). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Carat's authenticity POST: the new transaction's form (with its NIT) to the store's registered
 * URL, which must answer HTTP 200 within `timeoutMs` (real time). Redirects are not followed.
 */
export class AuthenticitySender {
  private mode: Required<AuthenticityMode> = { when: 'during', delayMs: 0, repeat: 1 };
  private readonly log: AuthenticityPost[] = [];
  private readonly requests = new Set<ClientRequest>();
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(private readonly timeoutMs: number) {}

  setMode(mode: AuthenticityMode): void {
    const { when, delayMs = 0, repeat = 1 } = mode;
    if (!Number.isInteger(repeat) || repeat < 1) throw new Error(`repeat must be an integer ≥ 1, not ${repeat}`);
    if (!Number.isFinite(delayMs) || delayMs < 0) throw new Error(`delayMs must be ≥ 0, not ${delayMs}`);
    this.mode = { when, delayMs, repeat };
  }

  /** Every POST made, in the order their answers (or failures) came. */
  posts(): AuthenticityPost[] {
    return this.log.map((post) => ({ ...post }));
  }

  /**
   * POSTs `form` to `url` as the mode says and calls `onFailure` when the first POST is not answered
   * 200 (or there is no URL). Resolves with whether begin answers success: in 'during' mode once the
   * POSTs are done, with their outcome; in 'after' mode at once, true (the POSTs go later).
   */
  async deliver(url: string | undefined, form: string, onFailure: () => void): Promise<boolean> {
    const { when, delayMs, repeat } = this.mode;
    const run = async (): Promise<boolean> => {
      const delivered = url !== undefined && (await this.postAll(url, form, repeat));
      if (!delivered) onFailure();
      return delivered;
    };
    if (when === 'during') return run();
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      void run();
    }, delayMs);
    this.timers.add(timer);
    return true;
  }

  /** Drops the POSTs not yet sent and aborts those under way. */
  close(): void {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const request of this.requests) request.destroy(new Error('the simulator closed'));
  }

  /** `repeat` POSTs one after the other; true when the first was answered 200. */
  private async postAll(url: string, form: string, repeat: number): Promise<boolean> {
    const first = await this.post(url, form);
    for (let copy = 1; copy < repeat; copy++) await this.post(url, form);
    return first.status === 200;
  }

  private post(url: string, body: string): Promise<AuthenticityPost> {
    return new Promise((resolve) => {
      let timer: NodeJS.Timeout | undefined;
      let settled = false;
      let timedOut = false;
      const finish = (status: number, answer: string, error?: string) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        const post: AuthenticityPost = { url, body, status, answer, ...(error === undefined ? {} : { error }) };
        this.log.push(post);
        resolve(post);
      };
      const failed = (error: Error) => finish(0, '', timedOut ? `no answer within ${this.timeoutMs} ms` : error.message);
      let request: ClientRequest;
      try {
        const target = new URL(url);
        request = (target.protocol === 'https:' ? httpsRequest : httpRequest)(target, {
          method: 'POST',
          agent: false,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'content-length': Buffer.byteLength(body),
            // As in the docs' example of the POST.
            'cache-control': 'no-cache',
          },
        });
      } catch (error) {
        return failed(error as Error);
      }
      timer = setTimeout(() => {
        timedOut = true;
        request.destroy(new Error('timeout'));
      }, this.timeoutMs);
      this.requests.add(request);
      request.on('close', () => this.requests.delete(request));
      request.on('error', failed);
      request.on('response', (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= MAX_ANSWER_BYTES) chunks.push(chunk);
        });
        response.on('error', failed);
        response.on('end', () => finish(response.statusCode ?? 0, Buffer.concat(chunks).toString('utf8')));
      });
      request.end(body);
    });
  }
}
