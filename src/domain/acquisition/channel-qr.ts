import { ConflictError, ServiceUnavailableError } from '../../infra/errors.js';
import type { ChannelLean } from './channel.model.js';

/** A QR image is a few kilobytes; anything this large is not one. */
const MAX_QR_BYTES = 2 * 1024 * 1024;
const QR_FETCH_TIMEOUT_MS = 5_000;

export interface QrImage {
  body: Buffer;
  contentType: string;
}

/**
 * The channel's QR image as WeCom serves it (docs/acquisition.md "QR download"). WeCom hosts the
 * image on its own CDN without CORS headers, so a browser cannot read its pixels to print it; the
 * console asks the bot, which fetches the stored `qr_code` URL (written by the worker from WeCom's
 * answer, never from a request) and passes the bytes on. A code not made yet answers 409, a CDN
 * that fails 503 — both say what to do.
 */
export async function fetchChannelQr(
  channel: Pick<ChannelLean, 'qrCode' | 'syncState'>,
  fetchFn: typeof fetch = globalThis.fetch,
): Promise<QrImage> {
  const url = channel.qrCode;
  if (!url || !/^https?:\/\//i.test(url))
    throw new ConflictError(
      `the code has no QR image yet (sync state ${channel.syncState}); try again once it is synced`,
      'qr_not_ready',
    );
  let res: Response;
  try {
    res = await fetchFn(url, { signal: AbortSignal.timeout(QR_FETCH_TIMEOUT_MS), redirect: 'follow' });
  } catch (err) {
    throw new ServiceUnavailableError(
      `WeCom's QR image could not be fetched (${(err as Error).name}); try again shortly`,
      'qr_unavailable',
    );
  }
  const contentType = res.headers.get('content-type') ?? '';
  if (!res.ok || !contentType.startsWith('image/'))
    throw new ServiceUnavailableError(
      `WeCom's QR image answered HTTP ${res.status} (${contentType || 'no type'}); try again shortly`,
      'qr_unavailable',
    );
  const body = Buffer.from(await res.arrayBuffer());
  if (body.length > MAX_QR_BYTES)
    throw new ServiceUnavailableError('the QR image WeCom served is too large to be a QR code', 'qr_unavailable');
  return { body, contentType };
}
