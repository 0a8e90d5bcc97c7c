import type { Redis } from 'ioredis';
import type { Context } from 'koa';
import type { WebhookSecrets } from '../../domain/webhooks/webhook-secret.service.js';
import { verifyWebhook } from '../../domain/webhooks/webhook-signature.js';
import { readRawBody } from '../../middlewares/raw-body.js';
import { AppError, BadRequestError, ConflictError, UnauthorizedError } from '../../infra/errors.js';

export interface SignedWebhookOptions {
  /** The pusher: secrets are looked up by (corpId, source). */
  source: string;
  secrets: WebhookSecrets;
  redis: Redis;
  keyPrefix: string;
  nowMs: () => number;
  /** Replay window (seconds): older or future timestamps are refused; seen ids are kept twice as long. */
  toleranceS?: number;
  maxBytes?: number;
}

/**
 * Verifies a Standard Webhooks delivery for `:corpId` and hands the parsed JSON body on
 * (docs/outcomes.md, "Webhook signature"): 401 for a missing or wrong signature or a timestamp
 * outside the window, 409 for a `webhook-id` already accepted (a replay), 400 for a body that is
 * not JSON. The id is claimed while the handler runs and released if it fails, so a sender's retry
 * of a failed delivery goes through; it is remembered only once `handle` returned (durable).
 * Reusable by every pusher: only `source` and `handle` differ.
 */
export function createSignedWebhook(
  opts: SignedWebhookOptions,
  handle: (ctx: Context, corpId: string, body: unknown) => Promise<void>,
) {
  const tolerance = opts.toleranceS ?? 300;
  return async function signedWebhook(ctx: Context): Promise<void> {
    const corpId = String(ctx.params?.corpId ?? '');
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(corpId))
      throw new BadRequestError('the path needs the corp id: /webhooks/<source>/<corpId>', 'bad_corp_id');
    const raw = await readRawBody(ctx.req, opts.maxBytes ?? 2 * 1024 * 1024);
    if (!raw.ok)
      throw raw.status === 413
        ? new AppError(413, 'payload_too_large', 'the body is larger than 2 MB; send fewer items per delivery')
        : new BadRequestError('the body could not be read', 'aborted');
    const secrets = await opts.secrets.valid(corpId, opts.source);
    if (secrets.length === 0)
      throw new UnauthorizedError(
        `no ${opts.source} webhook secret is set for this corp; create one with npm run webhook-secret -- rotate --corp ${corpId} --source ${opts.source}`,
        'no_webhook_secret',
      );
    const id = ctx.get('webhook-id');
    const check = verifyWebhook({
      id,
      timestamp: ctx.get('webhook-timestamp'),
      signature: ctx.get('webhook-signature'),
      body: raw.body,
      secrets,
      nowMs: opts.nowMs(),
      toleranceS: tolerance,
    });
    if (!check.ok) throw new UnauthorizedError(check.message, check.code);
    const key = `${opts.keyPrefix}:webhook-seen:${opts.source}:${corpId}:${id}`;
    const claimed = await opts.redis.set(key, 'pending', 'EX', tolerance * 2, 'NX');
    if (claimed !== 'OK') {
      const state = await opts.redis.get(key);
      throw new ConflictError(
        state === 'done'
          ? 'this webhook-id was already accepted; nothing was changed'
          : 'this webhook-id is being processed; retry later',
        state === 'done' ? 'replayed_delivery' : 'delivery_in_progress',
      );
    }
    try {
      let body: unknown;
      try {
        body = JSON.parse(raw.body.toString('utf8'));
      } catch (err) {
        throw new BadRequestError(`the body is not valid JSON (${(err as Error).message})`, 'invalid_json');
      }
      await handle(ctx, corpId, body);
    } catch (err) {
      await opts.redis.del(key).catch(() => undefined);
      throw err;
    }
    await opts.redis.set(key, 'done', 'EX', tolerance * 2);
  };
}
