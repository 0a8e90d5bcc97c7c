import type { CallbackEnvelope } from '../../../src/wecom/callback-crypto.js';

export interface DeliveryAttempt {
  status?: number;
  error?: string;
  ms: number;
}

export interface DeliveryReport {
  id: number;
  kind: string;
  corpId: string;
  url: string;
  ok: boolean;
  attempts: DeliveryAttempt[];
  /** The decrypted event, for inspection (fake data). */
  innerXml: string;
  /** The request as sent (body and signed query), so a retry can repeat it byte for byte. */
  envelope?: CallbackEnvelope;
}

export interface DeliveryOptions {
  /** WeCom waits 5 s (docs/wecom.md §1.5). */
  timeoutMs: number;
  /** WeCom retries 3 times (docs/wecom.md §1.6). */
  retries: number;
  /** Pause before each retry; undocumented in WeCom, short by default. */
  retryDelayMs: number;
  fetch: typeof globalThis.fetch;
}

/**
 * POSTs an envelope like WeCom: 5 s timeout, then up to 3 retries of the identical request.
 * A non-200 counts as a failure too (the older doc 90238 says so; 90930 says only timeouts and
 * connection errors do; the sandbox takes the stricter reading).
 */
export async function deliver(
  url: string,
  envelope: CallbackEnvelope,
  opts: DeliveryOptions,
): Promise<{ ok: boolean; attempts: DeliveryAttempt[] }> {
  const target = new URL(url);
  for (const [k, v] of Object.entries(envelope.query)) target.searchParams.set(k, v);
  const attempts: DeliveryAttempt[] = [];
  for (let i = 0; i <= opts.retries; i += 1) {
    if (i > 0 && opts.retryDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, opts.retryDelayMs));
    const started = Date.now();
    try {
      const res = await opts.fetch(target, {
        method: 'POST',
        headers: { 'content-type': 'text/xml; charset=utf-8', 'user-agent': 'Mozilla/5.0 (wecom-sandbox callback)' },
        body: envelope.body,
        signal: AbortSignal.timeout(opts.timeoutMs),
      });
      await res.arrayBuffer().catch(() => undefined);
      attempts.push({ status: res.status, ms: Date.now() - started });
      if (res.status === 200) return { ok: true, attempts };
    } catch (err) {
      const name = err instanceof Error ? err.name : 'Error';
      attempts.push({
        error: name === 'TimeoutError' ? 'timeout' : err instanceof Error ? err.message : String(err),
        ms: Date.now() - started,
      });
    }
  }
  return { ok: false, attempts };
}
