import Router from '@koa/router';
import { z } from 'zod';
import type { Principal } from '../../domain/auth/principal.js';
import { dealerCorpIds } from '../../domain/corps/corp-queries.js';
import { isLocalDay, isMonday } from '../../domain/kpis/kpi-days.js';
import { METRIC_KEYS } from '../../domain/kpis/kpi-types.js';
import { metricDefinitions } from '../../domain/kpis/metric-definitions.js';
import { latestDayWithData } from '../../domain/kpis/latest-day.js';
import { kpiOverview, weeklyAnomalies } from '../../domain/kpis/overview.service.js';
import { taskKpis } from '../../domain/tasks/kpi.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ForbiddenError, ValidationError } from '../../infra/errors.js';
import { toCsv } from '../../infra/csv.js';
import { parseOrThrow } from '../../infra/validation.js';
import type { ApiDeps } from './api-deps.js';
import { managedAdvisors } from '../../domain/customers/advisor-queries.js';
import { CUSTOMER_READERS } from './customers.routes.js';

/** Result-metric flags as of now; customer ids in their drill-down only for roles that may see customers. */
function resultFlagsFor(p: Principal, now: Date) {
  return { now, withCustomerIds: (CUSTOMER_READERS as readonly string[]).includes(p.role) };
}

const isoDate = z.iso.datetime({ offset: true, error: 'use an ISO date-time like 2026-06-01T00:00:00+08:00' });
export const kpiQuery = z
  .object({
    corpId: z.string().min(1).max(64),
    from: isoDate,
    to: isoDate,
    advisor: z.string().min(1).max(64).optional(),
  })
  .refine((q) => Date.parse(q.from) < Date.parse(q.to), { error: 'from must be before to', path: ['to'] });

/** The longest range one overview may cover (days). */
export const MAX_RANGE_DAYS = 400;
const DAY_MS = 86_400_000;
const localDay = z.string().refine(isLocalDay, { error: 'use a corp-local date like 2026-06-01 (YYYY-MM-DD)' });
const scopeFields = {
  corpId: z.string().min(1).max(64).optional(),
  advisor: z.string().min(1).max(64).optional(),
  department: z.coerce.number({ error: 'department must be a department id (a number)' }).int().min(0).optional(),
};
export const overviewQuery = z
  .object({
    ...scopeFields,
    from: localDay,
    to: localDay,
    granularity: z.enum(['day', 'week', 'month'], { error: 'granularity must be day, week or month' }).default('day'),
    groupBy: z
      .enum(['corp', 'department', 'advisor'], { error: 'groupBy must be corp, department or advisor' })
      .default('advisor'),
  })
  .refine((q) => q.from < q.to, { error: 'from must be before to (to is exclusive)', path: ['to'] })
  .refine((q) => Date.parse(q.to) - Date.parse(q.from) <= MAX_RANGE_DAYS * DAY_MS, {
    error: `the range may cover at most ${MAX_RANGE_DAYS} days; narrow from/to`,
    path: ['to'],
  });
export const anomaliesQuery = z.object({
  ...scopeFields,
  week: localDay.refine(isMonday, { error: 'week must be the Monday a week starts on (YYYY-MM-DD)' }),
});

export const KPI_READERS = ['admin', 'oem', 'analyst', 'dealer_admin', 'manager', 'advisor'] as const;

/** What a principal may see of the cockpit: corps, and for managers and advisors the advisors. */
export interface KpiScope {
  corpIds: string[];
  advisors?: string[];
  department?: number;
}

/**
 * The cockpit's scope for a request (shared by the process KPIs and the result KPIs,
 * docs/outcomes.md "KPIs by level"): the corps asked for and allowed, and the advisors a manager
 * or an advisor is limited to, narrowed by `advisor` / `department`.
 */
export async function resolveScope(
  p: Principal,
  q: { corpId?: string; advisor?: string; department?: number },
): Promise<KpiScope> {
  let corpIds: string[];
  if (q.corpId) {
    assertCorp(p, q.corpId, 'read');
    corpIds = [q.corpId];
  } else if (p.corps === '*') {
    corpIds = await dealerCorpIds();
  } else if (p.corps.length === 1) {
    corpIds = [...p.corps];
  } else {
    throw new ValidationError([{ path: '/corpId', message: 'corpId is required: your token covers several corps' }]);
  }
  if (p.role === 'advisor') {
    if (q.advisor && q.advisor !== p.userid)
      throw new ForbiddenError('advisors see their own figures only', 'advisor_forbidden');
    if (q.department !== undefined)
      throw new ForbiddenError('advisors see their own figures only', 'department_forbidden');
    return { corpIds, advisors: [p.userid ?? '\u0000'] };
  }
  if (p.role === 'manager') {
    if (q.department !== undefined && !(p.departments ?? []).includes(q.department))
      throw new ForbiddenError(`department ${q.department} is not one of yours`, 'department_forbidden');
    const mine = await managedAdvisors(p);
    if (q.advisor && !mine.includes(q.advisor))
      throw new ForbiddenError(`${q.advisor} is not in your departments`, 'advisor_forbidden');
    return { corpIds, advisors: q.advisor ? [q.advisor] : mine, department: q.department };
  }
  return { corpIds, advisors: q.advisor ? [q.advisor] : undefined, department: q.department };
}

/**
 * The cockpit's API (docs/cockpit.md) and the follow-up task KPIs (docs/tasks.md). Every figure comes from the daily
 * rollups (`kpi_daily`); scope: advisors themselves, managers their departments, dealer admins
 * their corp, oem/admin every dealer corp (no corpId = all of them). No customer data is read.
 */
export function createKpisRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.get('/kpis/tasks', async function taskKpiRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(kpiQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    let advisors: string[] | undefined = q.advisor ? [q.advisor] : undefined;
    if (p.role === 'advisor') advisors = [p.userid ?? '\u0000'];
    if (p.role === 'manager') {
      const mine = await managedAdvisors(p);
      advisors = advisors ? advisors.filter((a) => mine.includes(a)) : mine;
    }
    ctx.body = {
      corpId: q.corpId,
      from: q.from,
      to: q.to,
      ...(await taskKpis({ corpId: q.corpId, from: new Date(q.from), to: new Date(q.to), advisors }, deps.clock.now())),
    };
  });

  router.get('/kpis/definitions', function definitions(ctx) {
    ctx.body = { definitions: metricDefinitions() };
  });

  router.get('/kpis/overview', async function overview(ctx) {
    const q = parseOrThrow(overviewQuery, ctx.query);
    const p = principalOf(ctx);
    const scope = await resolveScope(p, q);
    const { docsRead, ...body } = await kpiOverview({
      ...scope,
      from: q.from,
      to: q.to,
      granularity: q.granularity,
      groupBy: q.groupBy,
      results: resultFlagsFor(p, deps.clock.now()),
    });
    ctx.set('X-Kpi-Docs-Read', String(docsRead));
    const latestDay = await latestDayWithData(scope);
    ctx.body = { ...body, asOf: deps.clock.now().toISOString(), ...(latestDay ? { latestDay } : {}) };
  });

  router.get('/kpis/overview.csv', async function overviewCsv(ctx) {
    const q = parseOrThrow(overviewQuery, ctx.query);
    const scope = await resolveScope(principalOf(ctx), q);
    const o = await kpiOverview({
      ...scope,
      from: q.from,
      to: q.to,
      granularity: q.granularity,
      groupBy: q.groupBy,
      results: { now: deps.clock.now(), withCustomerIds: false },
    });
    const header = ['unitKind', 'unitId', 'corpId', 'label', ...METRIC_KEYS, 'flags'];
    const records = o.rows.map((r) => [
      r.unit.kind,
      r.unit.id,
      r.unit.corpId,
      r.unit.label,
      ...METRIC_KEYS.map((k) => {
        const v = r.values[k];
        return v === null || v === undefined ? '' : String(v);
      }),
      r.flags.map((f) => f.metric).join(' '),
    ]);
    ctx.set('Content-Disposition', `attachment; filename="kpis-${q.from}-${q.to}.csv"`);
    ctx.type = 'text/csv; charset=utf-8';
    ctx.body = toCsv([header, ...records]);
  });

  router.get('/kpis/anomalies', async function anomalies(ctx) {
    const q = parseOrThrow(anomaliesQuery, ctx.query);
    const p = principalOf(ctx);
    const scope = await resolveScope(p, q);
    const { flags } = await weeklyAnomalies({
      corpIds: scope.corpIds,
      week: q.week,
      advisors: scope.advisors,
      results: resultFlagsFor(p, deps.clock.now()),
    });
    ctx.body = { week: q.week, flags };
  });
  return router;
}
