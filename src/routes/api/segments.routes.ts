import Router from '@koa/router';
import type { Context } from 'koa';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { canAccessCorp, corpFilter, type Principal } from '../../domain/auth/principal.js';
import { segmentInput, segmentListQuery, segmentUpdate } from '../../domain/segments/segment.schema.js';
import {
  createSegment,
  deleteSegment,
  findVisibleSegment,
  listSegments,
  updateSegment,
  type SegmentView,
} from '../../domain/segments/segment.service.js';
import { NotFoundError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/** Who reads saved segments and who writes them: the broadcasts' readers and authors (docs/engagement.md). */
export const SEGMENT_READERS = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] as const;
export const SEGMENT_AUTHORS = ['admin', 'oem', 'marketing', 'dealer_admin'] as const;

const actorOf = (p: Principal) => `user:${p.userid ?? p.tokenId}`;

/**
 * `/api/v1/segments` (docs/engagement.md, "Saved segments"): a corp's named audiences with the
 * rules' conditions. A segment of a corp the caller cannot see answers 404 like a missing one.
 * Writes are audited. Its audience is previewed with `POST /api/v1/broadcasts/preview` and
 * `audience: { kind: "segment", segmentId }`.
 */
export function createSegmentsRouter(deps: ApiDeps): Router {
  const router = new Router();
  const audit = (ctx: Context, action: string, s: SegmentView) =>
    recordAudit({
      actor: principalOf(ctx),
      action,
      target: { type: 'segment', id: s.id, corpId: s.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { name: s.name },
      at: deps.clock.now(),
    });

  /** The segment behind `:id` if the principal may see its corp; 404 otherwise (its existence does not leak). */
  const visible = async (p: Principal, id: string) => {
    const s = await findVisibleSegment(corpFilter(p), id);
    if (!s || !canAccessCorp(p, s.corpId))
      throw new NotFoundError(`no segment ${id} (list them with GET /api/v1/segments)`, 'segment_not_found');
    return s;
  };

  router.get('/segments', async function listSegmentsRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(segmentListQuery, ctx.query);
    if (q.corpId) assertCorp(p, q.corpId, 'read');
    ctx.body = { segments: await listSegments(q.corpId ? { corpId: q.corpId } : corpFilter(p)) };
  });

  router.post('/segments', async function createSegmentRoute(ctx) {
    const p = principalOf(ctx);
    const input = parseOrThrow(segmentInput, bodyOf(ctx) ?? {});
    assertCorp(p, input.corpId, 'write');
    const s = await createSegment(input, actorOf(p));
    await audit(ctx, 'segment.create', s);
    ctx.status = 201;
    ctx.body = s;
  });

  router.get('/segments/:id', async function getSegmentRoute(ctx) {
    ctx.body = await visible(principalOf(ctx), ctx.params.id ?? '');
  });

  router.put('/segments/:id', async function updateSegmentRoute(ctx) {
    const p = principalOf(ctx);
    const patch = parseOrThrow(segmentUpdate, bodyOf(ctx) ?? {});
    const current = await visible(p, ctx.params.id ?? '');
    const s = await updateSegment(current.corpId, current.id, patch, actorOf(p));
    await audit(ctx, 'segment.update', s);
    ctx.body = s;
  });

  router.delete('/segments/:id', async function deleteSegmentRoute(ctx) {
    const p = principalOf(ctx);
    const current = await visible(p, ctx.params.id ?? '');
    const s = await deleteSegment(current.corpId, current.id, actorOf(p), deps.clock.now());
    await audit(ctx, 'segment.delete', s);
    ctx.status = 204;
  });

  return router;
}
