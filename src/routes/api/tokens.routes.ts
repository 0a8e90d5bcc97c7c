import Router from '@koa/router';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { roleSchema } from '../../domain/auth/principal.js';
import { TokenService, type TokenSummary } from '../../domain/auth/token.service.js';
import { existingCorpIds } from '../../domain/corps/corp-queries.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import { principalOf } from '../../middlewares/auth.js';
import { NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

export const tokenCreateSchema = z
  .object({
    role: roleSchema,
    corps: z.array(corpIdSchema).max(50).default([]),
    userid: z
      .string()
      .regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid (letters, digits, . _ @ -)' })
      .optional(),
    label: z.string().trim().min(1).max(100).optional(),
    /** Optional expiry (ISO 8601 with a zone, in the future). */
    expiresAt: z.iso
      .datetime({ offset: true, error: 'an ISO 8601 date-time with a zone, e.g. 2027-01-31T00:00:00Z' })
      .transform((v) => new Date(v))
      .optional(),
  })
  .strict();

/** A token as listed: never the token itself nor its hash. */
export type ApiTokenView = TokenSummary;

/**
 * `/api/v1/tokens` (admins; the console's settings page and `npm run token`): list, create (the
 * token is in the answer once and never again; only its SHA-256 is stored) and revoke.
 */
export function createTokensRouter(deps: ApiDeps): Router {
  const router = new Router();
  const tokens = new TokenService(() => deps.clock.now());

  router.get('/tokens', async function listTokens(ctx) {
    ctx.body = { tokens: await tokens.list() };
  });

  router.post('/tokens', async function createToken(ctx) {
    const input = parseOrThrow(tokenCreateSchema, bodyOf(ctx) ?? {});
    const known = await existingCorpIds(input.corps);
    const unknown = input.corps.map((c, i) => ({ c, i })).filter(({ c }) => !known.has(c));
    if (unknown.length)
      throw new ValidationError(unknown.map(({ c, i }) => ({ path: `/corps/${i}`, message: `no corp ${c}` })));
    const created = await tokens.create(input).catch((err: unknown) => {
      // The service names CLI options (`corp`, `userid`); the API names body fields as JSON pointers.
      if (err instanceof ValidationError)
        throw new ValidationError(
          err.problems.map((pr) => ({
            path: pr.path === 'corp' ? '/corps' : `/${pr.path}`,
            message: pr.message
              .replace('--corp <corpId>', 'corps')
              .replace('leave --corp out', 'leave corps empty')
              .replace('--userid <WeCom userid>', 'a userid'),
          })),
        );
      throw err;
    });
    await recordAudit({
      actor: principalOf(ctx),
      action: 'token.create',
      target: { type: 'api_token', id: created.tokenId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { role: input.role, corps: input.corps },
      at: deps.clock.now(),
    });
    ctx.status = 201;
    ctx.body = { tokenId: created.tokenId, token: created.token };
  });

  router.delete('/tokens/:tokenId', async function revokeToken(ctx) {
    const tokenId = parseOrThrow(
      z.string().regex(/^[a-z0-9]{12}$/, { error: 'a token id: 12 letters or digits' }),
      ctx.params.tokenId,
      '/tokenId',
    );
    if (!(await tokens.revoke(tokenId))) throw new NotFoundError(`no active token ${tokenId}`, 'token_not_found');
    await recordAudit({
      actor: principalOf(ctx),
      action: 'token.revoke',
      target: { type: 'api_token', id: tokenId },
      requestId: ctx.state.reqId as string | undefined,
      at: deps.clock.now(),
    });
    ctx.status = 204;
  });
  return router;
}
