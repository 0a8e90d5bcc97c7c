import Router from '@koa/router';
import type { Context } from 'koa';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { contentItemInput, contentListQuery } from '../../domain/content/content.schema.js';
import { ContentService, type ContentItemView } from '../../domain/content/content.service.js';
import { parseOrThrow } from '../../infra/validation.js';
import { principalOf } from '../../middlewares/auth.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/** Who reads the library in the console, and who writes it (docs/console.md, "Content library"). */
export const CONTENT_READERS = ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] as const;
export const CONTENT_AUTHORS = ['admin', 'oem', 'marketing'] as const;

/**
 * `/api/v1/content`: the content library advisors send from the sidebar. Reads see the car
 * maker's items (`all`) and the caller's corps'; another corp's item is a 404. Writes are audited.
 */
export function createContentRouter(deps: ApiDeps): Router {
  const router = new Router();
  const content = new ContentService(() => deps.clock.now());
  const audit = (ctx: Context, action: string, item: ContentItemView) =>
    recordAudit({
      actor: principalOf(ctx),
      action,
      target: { type: 'content', id: item.id, corpId: item.scope === 'all' ? undefined : item.scope },
      requestId: ctx.state.reqId as string | undefined,
      detail: { kind: item.kind },
      at: deps.clock.now(),
    });

  router.get('/content', async function listContent(ctx) {
    const q = parseOrThrow(contentListQuery, ctx.query);
    ctx.body = { items: await content.list(principalOf(ctx), q) };
  });

  router.post('/content', async function createContent(ctx) {
    const input = parseOrThrow(contentItemInput, bodyOf(ctx));
    const item = await content.create(principalOf(ctx), input);
    await audit(ctx, 'content.create', item);
    ctx.status = 201;
    ctx.body = item;
  });

  router.get('/content/:id', async function getContent(ctx) {
    ctx.body = await content.get(principalOf(ctx), ctx.params.id ?? '');
  });

  router.put('/content/:id', async function replaceContent(ctx) {
    const input = parseOrThrow(contentItemInput, bodyOf(ctx));
    const item = await content.replace(principalOf(ctx), ctx.params.id ?? '', input);
    await audit(ctx, 'content.update', item);
    ctx.body = item;
  });

  router.delete('/content/:id', async function deleteContent(ctx) {
    const item = await content.remove(principalOf(ctx), ctx.params.id ?? '');
    await audit(ctx, 'content.delete', item);
    ctx.status = 204;
  });

  return router;
}
