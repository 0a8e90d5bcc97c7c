import type { IncomingMessage } from 'node:http';

export type RawBodyResult =
  { ok: true; body: Buffer } | { ok: false; status: 413 | 400; reason: 'too_large' | 'aborted'; destroy: boolean };

/**
 * Reads a request body with the limit enforced while reading (docs/architecture.md §3 step 1): a declared or
 * actual size over `limit` is refused with 413 without buffering it. Bodies up to `discardLimit`
 * are read to the end and thrown away so the client receives the 413 instead of a reset; beyond
 * that the connection is closed.
 */
export function readRawBody(
  req: IncomingMessage,
  limit: number,
  discardLimit = 16 * 1024 * 1024,
): Promise<RawBodyResult> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > discardLimit) {
    return Promise.resolve({ ok: false, status: 413, reason: 'too_large', destroy: true });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let received = 0;
    let over = Number.isFinite(declared) && declared > limit;
    let settled = false;
    const finish = (result: RawBodyResult) => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (!result.ok && result.destroy) req.resume();
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      received += chunk.length;
      if (received > limit) over = true;
      if (over) {
        chunks.length = 0;
        if (received > discardLimit) finish({ ok: false, status: 413, reason: 'too_large', destroy: true });
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () =>
      finish(
        over
          ? { ok: false, status: 413, reason: 'too_large', destroy: false }
          : { ok: true, body: chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks) },
      );
    // A client that goes away mid-body surfaces as 'error' ("aborted"), after the deprecated 'aborted' event.
    const onError = () => finish({ ok: false, status: 400, reason: 'aborted', destroy: true });
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}
