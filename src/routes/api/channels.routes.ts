import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { channelCreateSchema, channelUpdateSchema } from '../../domain/acquisition/channel-input.js';
import {
  createChannel,
  deleteChannel,
  getChannel,
  listChannels,
  presentChannel,
  updateChannel,
  type ChannelApiDeps,
} from '../../domain/acquisition/channel.service.js';
import { channelKpis } from '../../domain/acquisition/acquisition-kpis.js';
import { fetchChannelQr } from '../../domain/acquisition/channel-qr.js';
import { NotFoundError } from '../../infra/errors.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import type { Principal } from '../../domain/auth/principal.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { corpRetentionSettings, requireDealerCorp } from '../../domain/corps/corp-queries.js';

/** Who makes channel codes; who reads them and their KPIs. */
export const CHANNEL_WRITERS = ['admin', 'marketing', 'dealer_admin'] as const;
export const CHANNEL_READERS = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] as const;
/** The list and the QR image also serve advisors: only the codes they are on (their personal lead code). */
export const CHANNEL_QR_READERS = [...CHANNEL_READERS, 'advisor'] as const;

const corpQuery = z.object({
  corpId: corpIdSchema,
  includeDeleted: z.enum(['true', 'false']).optional(),
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});

async function channelDeps(deps: ApiDeps, corpId: string): Promise<ChannelApiDeps> {
  await requireDealerCorp(corpId, deps.config.defaultTimezone);
  const retention = await corpRetentionSettings(corpId);
  return { corpId, queues: deps.queues, clock: deps.clock, deliveryPrefixes: retention.deliveryStatePrefixes };
}

function audit(
  deps: ApiDeps,
  p: Principal,
  action: string,
  corpId: string,
  id: string,
  reqId: unknown,
  detail: Record<string, string | number | boolean | string[]> = {},
) {
  return recordAudit({
    actor: p,
    action,
    target: { type: 'channel', id, corpId },
    requestId: reqId as string | undefined,
    detail,
    at: deps.clock.now(),
  });
}

/**
 * `/api/v1/channels` (docs/acquisition.md "Channel codes"): channel QR codes the bot makes and
 * keeps in step with WeCom. Writes store the channel and queue the WeCom call (never made inside
 * the request); the answer's `syncState` moves from `pending` to `synced` (or `failed` with
 * WeCom's reason) within seconds.
 */
export function createChannelsRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/channels', async function createChannelRoute(ctx) {
    const p = principalOf(ctx);
    const { corpId, ...input } = parseOrThrow(channelCreateSchema, bodyOf(ctx) ?? {});
    assertCorp(p, corpId, 'write');
    const channel = await createChannel(await channelDeps(deps, corpId), input);
    await audit(deps, p, 'channel.create', corpId, String(channel._id), ctx.state.reqId, { kind: channel.kind });
    ctx.status = 201;
    ctx.body = presentChannel(channel);
  });
  router.get('/channels', async function listChannelsRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    const mine = p.role === 'advisor' ? { advisor: p.userid ?? '\u0000' } : {};
    ctx.body = {
      channels: (await listChannels(q.corpId, { includeDeleted: q.includeDeleted === 'true', ...mine })).map(
        presentChannel,
      ),
    };
  });
  router.get('/channels/kpis', async function channelKpisRoute(ctx) {
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = await channelKpis(q.corpId, { from: q.from, to: q.to });
  });
  router.get('/channels/:id', async function getChannelRoute(ctx) {
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = presentChannel(await getChannel(q.corpId, ctx.params.id ?? ''));
  });
  router.get('/channels/:id/qr.png', async function channelQrRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    const channel = await getChannel(q.corpId, ctx.params.id ?? '');
    if (p.role === 'advisor' && !channel.advisors.includes(p.userid ?? ''))
      throw new NotFoundError(`no channel ${ctx.params.id ?? ''}`, 'channel_not_found');
    const image = await fetchChannelQr(channel);
    ctx.set('Cache-Control', 'private, max-age=300');
    ctx.type = image.contentType;
    ctx.body = image.body;
  });
  router.patch('/channels/:id', async function updateChannelRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const patch = parseOrThrow(channelUpdateSchema, bodyOf(ctx) ?? {});
    const channel = await updateChannel(await channelDeps(deps, q.corpId), ctx.params.id ?? '', patch);
    await audit(deps, p, 'channel.update', q.corpId, String(channel._id), ctx.state.reqId, {
      fields: Object.keys(patch),
    });
    ctx.body = presentChannel(channel);
  });
  router.delete('/channels/:id', async function deleteChannelRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const channel = await deleteChannel(await channelDeps(deps, q.corpId), ctx.params.id ?? '');
    await audit(deps, p, 'channel.delete', q.corpId, String(channel._id), ctx.state.reqId);
    ctx.body = presentChannel(channel);
  });
  return router;
}
