import Router from '@koa/router';
import { z } from 'zod';
import {
  acquisitionSettingsSchema,
  loadAcquisitionSettings,
  saveAcquisitionSettings,
} from '../../domain/acquisition/acquisition-settings.js';
import {
  advanceLead,
  getLead,
  markContacted,
  presentLead,
  reassignLead,
  recordSale,
} from '../../domain/acquisition/lead-actions.js';
import {
  ingestLeads,
  leadIntakeDepsFor,
  summarizeLeadResults,
  type LeadIntakeDeps,
} from '../../domain/acquisition/lead-intake.js';
import { leadKpis } from '../../domain/acquisition/lead-kpis.js';
import { slaDue } from '../../domain/acquisition/lead-routing.js';
import type { LeadLean } from '../../domain/acquisition/lead.model.js';
import { findLeads, leadMatches, setAdvisorAvailability } from '../../domain/acquisition/lead-queries.js';
import { LEAD_SOURCES, LEAD_STAGES } from '../../domain/acquisition/lead.types.js';
import { requestTeamRefresh } from '../../domain/acquisition/team-codes.js';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { readsPersonalData, type Principal } from '../../domain/auth/principal.js';
import { corpIdSchema } from '../../domain/corps/corp.types.js';
import { inWorkingHours } from '../../domain/tasks/working-hours.js';
import { defaultTaskSettings } from '../../domain/tasks/task-settings.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow, problemsOf } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';
import { requireDealerCorp } from '../../domain/corps/corp-queries.js';
import { managedAdvisors } from '../../domain/customers/advisor-queries.js';
import { assertReassignable, corpTaskSettings } from '../../domain/tasks/task-queries.js';

/** Who brings leads in; who works them; who moves them between advisors and sets routing. */
export const LEAD_WRITERS = ['admin', 'dealer_admin', 'marketing', 'integration'] as const;
export const LEAD_READERS = ['admin', 'oem', 'dealer_admin', 'marketing', 'manager', 'advisor'] as const;
export const LEAD_WORKERS = ['admin', 'dealer_admin', 'manager', 'advisor'] as const;
export const LEAD_MANAGERS = ['admin', 'dealer_admin', 'manager'] as const;
export const LEAD_SETTINGS_ROLES = ['admin', 'dealer_admin'] as const;
export const LEAD_SALE_RECORDERS = ['admin', 'dealer_admin', 'manager', 'integration'] as const;

const MAX_BATCH = 1000;
const batchSchema = z
  .object({
    corpId: z.string(),
    leads: z
      .array(z.unknown())
      .min(1, { error: 'send at least one lead' })
      .max(MAX_BATCH, { error: `at most ${MAX_BATCH} leads per request; split the batch` }),
  })
  .strict();
const corpQuery = z.object({ corpId: corpIdSchema });
const listQuery = z.object({
  corpId: corpIdSchema,
  stage: z.enum(LEAD_STAGES).optional(),
  source: z.enum(LEAD_SOURCES).optional(),
  advisor: z.string().min(1).optional(),
  unassigned: z.enum(['true', 'false']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(200),
});
const kpiQuery = z.object({ corpId: corpIdSchema, from: z.iso.date().optional(), to: z.iso.date().optional() });
const stageBody = z
  .object({ stage: z.enum(LEAD_STAGES), lostReason: z.string().trim().min(1).max(200).optional() })
  .strict();
const assignBody = z.object({ advisorUserid: z.string().min(1).max(64) }).strict();
const availabilityBody = z
  .object({
    offShift: z.boolean().optional(),
    leaveUntil: z.iso.datetime({ offset: true }).nullable().optional(),
    leadCap: z.number().int().min(0).max(10_000).nullable().optional(),
    onDuty: z.boolean().optional(),
  })
  .strict();

/** Intake dependencies for one corp: its working hours and zone. */
export async function leadIntakeDeps(deps: ApiDeps, corpId: string): Promise<LeadIntakeDeps> {
  return leadIntakeDepsFor(
    { pd: deps.pd, queues: deps.queues, clock: deps.clock, defaultTimezone: deps.config.defaultTimezone },
    corpId,
  );
}

/**
 * The dealer corp of an intake call and its intake deps: from the web's corp cache when it holds
 * the corp (no MongoDB read per lead, docs/acquisition.md "Leads"), else from MongoDB, which also
 * answers the unknown or car-maker corp with its 4xx.
 */
async function intakeCorp(
  deps: ApiDeps,
  corpId: unknown,
): Promise<{ corp: { corpId: string }; intake: LeadIntakeDeps }> {
  const cached = typeof corpId === 'string' ? deps.corps?.get(corpId) : undefined;
  if (cached?.kind === 'dealer') {
    const workingHours = (cached.tasks ?? defaultTaskSettings).workingHours;
    return {
      corp: cached,
      intake: { pd: deps.pd, queues: deps.queues, clock: deps.clock, timeZone: cached.timezone, workingHours },
    };
  }
  const corp = await requireDealerCorp(corpId, deps.config.defaultTimezone);
  return { corp, intake: await leadIntakeDeps(deps, corp.corpId) };
}

/** Leads a principal sees: advisors their own, managers their departments' and the unassigned ones. */
async function scopeFilter(p: Principal): Promise<Record<string, unknown>> {
  if (p.role === 'advisor') return { advisorUserid: p.userid ?? '\u0000' };
  if (p.role === 'manager')
    return { $or: [{ advisorUserid: { $in: await managedAdvisors(p) } }, { advisorUserid: { $exists: false } }] };
  return {};
}

async function scopedLead(p: Principal, corpId: string, id: string): Promise<LeadLean> {
  const lead = await getLead(corpId, id);
  const filter = await scopeFilter(p);
  if (Object.keys(filter).length && !(await leadMatches(lead._id, filter)))
    throw new NotFoundError(`no lead ${id}`, 'lead_not_found');
  return lead;
}

/** Who may open a lead's name and mobile: the roles that read customers (`PERSONAL_DATA_READERS`). */
function sealerFor(p: Principal, deps: ApiDeps): ApiDeps['pd'] | undefined {
  return readsPersonalData(p) ? deps.pd : undefined;
}

function actorOf(p: Principal): string {
  return p.userid ? `user:${p.userid}` : `api:${p.tokenId}`;
}

/**
 * `/api/v1/leads` (docs/acquisition.md): intake (single or batch, per-item results), the managers'
 * board and the advisor's list, one lead (name and mobile opened, audited), stage moves, first
 * contact, reassignment, a sale, KPIs, routing settings and advisor availability.
 */
export function createLeadsRouter(deps: ApiDeps): Router {
  const router = new Router();
  router.post('/leads', async function postLeads(ctx) {
    const p = principalOf(ctx);
    const body = bodyOf(ctx);
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw new ValidationError([
        { path: '/', message: 'send a JSON object: { corpId, leads: [...] } or { corpId, source, mobile, ... }' },
      ]);
    const isBatch = 'leads' in body;
    let corpId: unknown;
    let items: unknown[];
    if (isBatch) {
      const batch = batchSchema.safeParse(body);
      if (!batch.success) throw new ValidationError(problemsOf(batch.error));
      corpId = batch.data.corpId;
      items = batch.data.leads;
    } else {
      const { corpId: id, ...lead } = body as Record<string, unknown>;
      corpId = id;
      items = [lead];
    }
    if (typeof corpId === 'string') assertCorp(p, corpId);
    const { corp, intake } = await intakeCorp(deps, corpId);
    const results = await ingestLeads(intake, corp.corpId, items, {
      actor: actorOf(p),
      pointer: (i) => (isBatch ? `/leads/${i}` : ''),
    });
    const summary = summarizeLeadResults(results);
    if (summary.rejected === results.length)
      throw new ValidationError(
        results.flatMap((r) => (r.status === 'rejected' ? r.problems : [])),
        'no lead was accepted',
      );
    await recordAudit({
      actor: p,
      action: 'lead.ingest',
      target: { type: 'leads', corpId: corp.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: summary,
      at: deps.clock.now(),
    });
    ctx.body = { summary, results };
  });

  router.get('/leads', async function listLeads(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(listQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    const filter: Record<string, unknown> = { corpId: q.corpId, ...(await scopeFilter(p)) };
    if (q.stage) filter.stage = q.stage;
    if (q.source) filter.source = q.source;
    if (q.advisor) filter.advisorUserid = q.advisor;
    if (q.unassigned === 'true') filter.advisorUserid = { $exists: false };
    const leads = await findLeads(filter, q.limit);
    await recordAudit({
      actor: p,
      action: 'lead.list',
      target: { type: 'leads', corpId: q.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { count: leads.length },
      at: deps.clock.now(),
    });
    ctx.body = { leads: leads.map((l) => ({ ...presentLead(l, sealerFor(p, deps)), history: undefined })) };
  });

  router.get('/leads/kpis', async function leadKpisRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(kpiQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    ctx.body = await leadKpis(q.corpId, sealerFor(p, deps), deps.clock.now(), { from: q.from, to: q.to });
  });

  router.get('/leads/settings', async function getLeadSettings(ctx) {
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(principalOf(ctx), q.corpId, 'read');
    ctx.body = await loadAcquisitionSettings(q.corpId);
  });
  router.put('/leads/settings', async function putLeadSettings(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    await requireDealerCorp(q.corpId, deps.config.defaultTimezone);
    const settings = parseOrThrow(acquisitionSettingsSchema, bodyOf(ctx) ?? {});
    await saveAcquisitionSettings(q.corpId, settings);
    await recordAudit({
      actor: p,
      action: 'lead.settings',
      target: { type: 'corp', corpId: q.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { rules: settings.rules.length },
      at: deps.clock.now(),
    });
    ctx.body = settings;
  });

  router.put('/leads/availability/:userid', async function putAvailability(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const userid = ctx.params.userid ?? '';
    if (p.role === 'advisor' && p.userid !== userid)
      throw new ForbiddenError('advisors set their own availability only', 'advisor_forbidden');
    if (p.role !== 'advisor') await assertReassignable(p, q.corpId, userid);
    const body = parseOrThrow(availabilityBody, bodyOf(ctx) ?? {});
    const doc = await setAdvisorAvailability(q.corpId, userid, body);
    await requestTeamRefresh(deps, q.corpId, userid);
    ctx.body = {
      userid,
      offShift: doc?.offShift ?? false,
      leaveUntil: doc?.leaveUntil ?? null,
      leadCap: doc?.leadCap ?? null,
      onDuty: doc?.onDuty ?? false,
    };
  });

  router.get('/leads/:id', async function getLeadRoute(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'read');
    const lead = await scopedLead(p, q.corpId, ctx.params.id ?? '');
    await recordAudit({
      actor: p,
      action: 'lead.read',
      target: { type: 'lead', id: String(lead._id), corpId: q.corpId },
      requestId: ctx.state.reqId as string | undefined,
      at: deps.clock.now(),
    });
    ctx.body = presentLead(lead, sealerFor(p, deps));
  });

  const actionDeps = (corpId: string) => ({ corpId, clock: deps.clock, queues: deps.queues });
  router.post('/leads/:id/contacted', async function leadContacted(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const lead = await scopedLead(p, q.corpId, ctx.params.id ?? '');
    const via = z
      .object({ via: z.enum(['sidebar', 'api']).default('api') })
      .strict()
      .parse(bodyOf(ctx) ?? {}).via;
    ctx.body = presentLead((await markContacted(actionDeps(q.corpId), String(lead._id), actorOf(p), via)).lead);
  });
  router.post('/leads/:id/stage', async function leadStage(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const lead = await scopedLead(p, q.corpId, ctx.params.id ?? '');
    const body = parseOrThrow(stageBody, bodyOf(ctx) ?? {});
    ctx.body = presentLead(
      (
        await advanceLead(actionDeps(q.corpId), String(lead._id), body.stage, actorOf(p), {
          lostReason: body.lostReason,
          via: 'api',
        })
      ).lead,
    );
  });
  router.post('/leads/:id/sale', async function leadSale(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const lead = await scopedLead(p, q.corpId, ctx.params.id ?? '');
    const out = await recordSale(actionDeps(q.corpId), String(lead._id), actorOf(p));
    await recordAudit({
      actor: p,
      action: 'lead.sale',
      target: { type: 'lead', id: String(lead._id), corpId: q.corpId },
      requestId: ctx.state.reqId as string | undefined,
      at: deps.clock.now(),
    });
    ctx.body = presentLead(out.lead);
  });
  router.post('/leads/:id/assign', async function leadAssign(ctx) {
    const p = principalOf(ctx);
    const q = parseOrThrow(corpQuery, ctx.query);
    assertCorp(p, q.corpId, 'write');
    const lead = await scopedLead(p, q.corpId, ctx.params.id ?? '');
    const body = parseOrThrow(assignBody, bodyOf(ctx) ?? {});
    await assertReassignable(p, q.corpId, body.advisorUserid);
    const { timeZone, settings } = await corpTaskSettings(q.corpId, deps.config.defaultTimezone);
    const acq = await loadAcquisitionSettings(q.corpId);
    const now = deps.clock.now();
    const onDuty = !inWorkingHours(now, settings.workingHours, timeZone);
    const due = slaDue({ timeZone, workingHours: settings.workingHours, settings: acq }, now, onDuty);
    const updated = await reassignLead(
      { ...actionDeps(q.corpId), slaDueAt: due },
      String(lead._id),
      body.advisorUserid,
      actorOf(p),
    );
    await recordAudit({
      actor: p,
      action: 'lead.assign',
      target: { type: 'lead', id: String(lead._id), corpId: q.corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { to: body.advisorUserid },
      at: deps.clock.now(),
    });
    ctx.body = presentLead(updated);
  });
  return router;
}
