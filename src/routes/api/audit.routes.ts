import Router from '@koa/router';
import { z } from 'zod';
import { listAudit } from '../../domain/audit/audit.service.js';
import { parseOrThrow } from '../../infra/validation.js';

export const auditQuerySchema = z.object({
  corpId: z.string().min(1).max(64).optional(),
  action: z.string().min(1).max(64).optional(),
  tokenId: z.string().min(1).max(64).optional(),
  before: z.iso
    .datetime({ error: 'use an ISO date-time (the `at` of the last entry of the previous page)' })
    .transform((v) => new Date(v))
    .optional(),
  limit: z.coerce.number().int().min(1).max(500, { error: 'at most 500 per page' }).default(100),
});

/** `GET /api/v1/audit` (admins): newest first; page with `before`. */
export function createAuditRouter(): Router {
  const router = new Router();
  router.get('/audit', async function listAuditEntries(ctx) {
    ctx.body = { entries: await listAudit(parseOrThrow(auditQuerySchema, ctx.query)) };
  });
  return router;
}
