import Router from '@koa/router';
import type { Context } from 'koa';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { corpExists } from '../../domain/corps/corp-queries.js';
import { corpIdSchema, corpInputSchema, corpPatchSchema } from '../../domain/corps/corp.types.js';
import { principalOf } from '../../middlewares/auth.js';
import { ConflictError, NotFoundError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/**
 * `/api/v1/corps` (admins): list, read, add and change WeCom corps through CorpService.
 * Secrets are write-only: they are sealed on the way in and never returned (summaries only);
 * the audit record names the changed fields, never their values.
 */
export function createCorpsRouter(deps: ApiDeps): Router {
  const router = new Router();
  const svc = deps.corpService;
  const audit = (ctx: Context, action: string, corpId: string, fields: string[]) =>
    recordAudit({
      actor: principalOf(ctx),
      action,
      target: { type: 'corp', id: corpId, corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { fields },
      at: deps.clock.now(),
    });
  const summary = async (corpId: string) => (await svc.list()).find((c) => c.corpId === corpId);

  router.get('/corps', async function listCorps(ctx) {
    ctx.body = { corps: await svc.list() };
  });

  router.get('/corps/:corpId', async function getCorp(ctx) {
    const found = await summary(ctx.params.corpId ?? '');
    if (!found) throw new NotFoundError(`no corp ${ctx.params.corpId}`, 'corp_not_found');
    ctx.body = found;
  });

  router.post('/corps', async function createCorp(ctx) {
    const input = parseOrThrow(corpInputSchema, bodyOf(ctx));
    if (await corpExists(input.corpId))
      throw new ConflictError(
        `corp ${input.corpId} exists; change it with PATCH /api/v1/corps/${input.corpId}`,
        'corp_exists',
      );
    await svc.upsert(input);
    await audit(ctx, 'corp.create', input.corpId, Object.keys(input));
    ctx.status = 201;
    ctx.body = await summary(input.corpId);
  });

  router.patch('/corps/:corpId', async function patchCorp(ctx) {
    const corpId = parseOrThrow(corpIdSchema, ctx.params.corpId, '/corpId');
    const patch = parseOrThrow(corpPatchSchema.strict(), bodyOf(ctx) ?? {});
    if (!(await corpExists(corpId))) throw new NotFoundError(`no corp ${corpId}`, 'corp_not_found');
    await svc.update(corpId, patch);
    await audit(ctx, 'corp.update', corpId, Object.keys(patch));
    ctx.body = await summary(corpId);
  });
  return router;
}
