import Router from '@koa/router';
import { z } from 'zod';
import { vehicleInputSchema } from '../../domain/vehicles/vehicle-input.js';
import { upsertVehicle, type VehicleOutcome } from '../../domain/vehicles/vehicle.service.js';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ValidationError } from '../../infra/errors.js';
import { problemsOf } from '../../infra/validation.js';
import type { ApiDeps } from './api-deps.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';

const MAX_BATCH = 1000;

const batchSchema = z
  .object({
    corpId: z.string(),
    vehicles: z
      .array(z.unknown())
      .min(1, { error: 'send at least one vehicle' })
      .max(MAX_BATCH, { error: `at most ${MAX_BATCH} vehicles per request; split the batch` }),
  })
  .strict();

/**
 * `POST /api/v1/vehicles`: one vehicle (`{ corpId, vin, ... }`) or a batch (`{ corpId, vehicles: [...] }`,
 * up to 1,000). Each item is validated and applied on its own: a rejected item changes nothing and
 * is reported with JSON pointers; the others are applied. 200 when at least one item was accepted,
 * 422 when none was.
 */
export function createVehiclesRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/vehicles', async function postVehicles(ctx) {
    const body = (ctx.request as unknown as { body?: unknown }).body;
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw new ValidationError([
        { path: '/', message: 'send a JSON object: { corpId, vehicles: [...] } or { corpId, vin, ... }' },
      ]);
    }
    const isBatch = 'vehicles' in body;
    let corpId: unknown;
    let items: Array<{ pointer: string; raw: unknown }>;
    if (isBatch) {
      const batch = batchSchema.safeParse(body);
      if (!batch.success) throw new ValidationError(problemsOf(batch.error));
      corpId = batch.data.corpId;
      items = batch.data.vehicles.map((raw, i) => ({ pointer: `/vehicles/${i}`, raw }));
    } else {
      const { corpId: id, ...vehicle } = body as Record<string, unknown>;
      corpId = id;
      items = [{ pointer: '', raw: vehicle }];
    }
    if (typeof corpId === 'string') assertCorp(principalOf(ctx), corpId);
    const corp = await requireDealerCorp(corpId, deps.config.defaultTimezone);
    const vehicleDeps = { ...corp, pd: deps.pd, queues: deps.queues, now: () => deps.clock.now() };

    const results: Array<{ pointer: string; outcome: VehicleOutcome }> = [];
    for (const item of items) {
      const parsed = vehicleInputSchema.safeParse(item.raw);
      if (!parsed.success) {
        const vin = typeof (item.raw as { vin?: unknown })?.vin === 'string' ? (item.raw as { vin: string }).vin : '';
        results.push({
          pointer: item.pointer,
          outcome: { status: 'rejected', vin, problems: problemsOf(parsed.error, item.pointer) },
        });
        continue;
      }
      const outcome = await upsertVehicle(vehicleDeps, parsed.data, 'api');
      results.push({
        pointer: item.pointer,
        outcome:
          outcome.status === 'rejected'
            ? { ...outcome, problems: outcome.problems.map((p) => ({ ...p, path: item.pointer + p.path })) }
            : outcome,
      });
    }
    const count = (status: string) => results.filter((r) => r.outcome.status === status).length;
    const summary = {
      created: count('created'),
      updated: count('updated'),
      unchanged: count('unchanged'),
      rejected: count('rejected'),
    };
    if (summary.rejected === results.length) {
      throw new ValidationError(
        results.flatMap((r) => (r.outcome.status === 'rejected' ? r.outcome.problems : [])),
        'no vehicle was accepted',
      );
    }
    await recordAudit({
      actor: principalOf(ctx),
      action: 'vehicle.upsert',
      target: { type: 'vehicles', corpId: corp.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: summary,
      at: deps.clock.now(),
    });
    ctx.body = {
      summary,
      results: results.map(({ outcome }) =>
        outcome.status === 'rejected'
          ? { status: outcome.status, vin: outcome.vin, problems: outcome.problems }
          : { status: outcome.status, vin: outcome.vin, vehicleId: outcome.vehicleId, linked: outcome.linked },
      ),
    };
  });
  return router;
}
