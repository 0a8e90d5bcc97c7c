import { corpTaskSettings } from '../tasks/task-queries.js';
import { Types } from 'mongoose';
import { dayjs, type Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { FieldProblem } from '../../infra/errors.js';
import { problemsOf } from '../../infra/validation.js';
import type { Queues } from '../../queues/queue-factory.js';
import { leadCardJob } from '../../queues/jobs/acquisition.jobs.js';
import { leadCtx, type PersonalData } from '../customers/personal-data.js';
import { withOutbox } from '../events/outbox.js';
import type { TaskSettings } from '../tasks/task-settings.js';
import { loadAcquisitionSettings } from './acquisition-settings.js';
import { leadInputSchema, type LeadInput } from './lead-input.js';
import { adjustLeadCount } from './lead-counters.js';
import { routeLead, serializeBy, type RoutingContext, type RoutingDecision } from './lead-routing.js';
import { LeadModel, OPEN_LEAD_STAGES } from './lead.model.js';

/** What intake needs for one corp (the API, the CSV import and a platform webhook build it alike). */
export interface LeadIntakeDeps {
  pd: PersonalData;
  queues: Queues;
  clock: Clock;
  timeZone: string;
  workingHours: TaskSettings['workingHours'];
  logger?: Logger;
}

/** The intake's dependencies for one dealer corp: its time zone and working hours from its task settings. */
export async function leadIntakeDepsFor(
  parts: Pick<LeadIntakeDeps, 'pd' | 'queues' | 'clock'> & { defaultTimezone: string },
  corpId: string,
): Promise<LeadIntakeDeps> {
  const { timeZone, settings } = await corpTaskSettings(corpId, parts.defaultTimezone);
  return { pd: parts.pd, queues: parts.queues, clock: parts.clock, timeZone, workingHours: settings.workingHours };
}

/** Per-item answers summed up, as the API and the webhook answer them. */
export function summarizeLeadResults(results: readonly LeadItemResult[]): {
  created: number;
  merged: number;
  rejected: number;
} {
  const count = (s: LeadItemResult['status']) => results.filter((r) => r.status === s).length;
  return { created: count('created'), merged: count('merged'), rejected: count('rejected') };
}

export type LeadItemResult =
  | { index: number; status: 'created'; leadId: string; advisorUserid: string | null; routeAt: string | null }
  | { index: number; status: 'merged'; leadId: string; repeatCount: number }
  | { index: number; status: 'rejected'; problems: FieldProblem[] };

/** `actor`: who brought the leads (`api:<token>`, `import:<file>`, `webhook:<platform>`). */
export interface IngestOptions {
  actor: string;
  /** JSON-pointer prefix per item for problems (`/leads/3`). */
  pointer?: (index: number) => string;
}

/**
 * The one intake of leads (docs/acquisition.md "Intake"): the API, the CSV import and a signed
 * platform webhook all call this. Each item is validated and applied on its own; a duplicate
 * (same platform id, or the same mobile within the corp's window) merges into the existing lead
 * as repeat interest; a new lead is sealed, routed and its advisor's card queued at once.
 */
export async function ingestLeads(
  deps: LeadIntakeDeps,
  corpId: string,
  items: readonly unknown[],
  opts: IngestOptions,
): Promise<LeadItemResult[]> {
  const settings = await loadAcquisitionSettings(corpId);
  const ctx: RoutingContext = {
    corpId,
    timeZone: deps.timeZone,
    workingHours: deps.workingHours,
    settings,
    queues: deps.queues,
  };
  const results: LeadItemResult[] = [];
  for (const [index, raw] of items.entries()) {
    const parsed = leadInputSchema.safeParse(raw);
    if (!parsed.success) {
      results.push({ index, status: 'rejected', problems: problemsOf(parsed.error, opts.pointer?.(index) ?? '') });
      continue;
    }
    // Routing needs no lock (lead-counters.ts); one mobile at a time per process so a duplicate merges.
    const key = parsed.data.mobile ? `${corpId}|${deps.pd.hash('mobile', parsed.data.mobile)}` : undefined;
    const one = () => ingestOne(deps, ctx, parsed.data, index, opts.actor);
    results.push(await (key ? serializeBy(key, one) : one()));
  }
  return results;
}

async function ingestOne(
  deps: LeadIntakeDeps,
  ctx: RoutingContext,
  input: LeadInput,
  index: number,
  actor: string,
): Promise<LeadItemResult> {
  const now = deps.clock.now();
  const at = input.at ? new Date(input.at) : now;
  const corpId = ctx.corpId;
  const mobileHash = input.mobile ? deps.pd.hash('mobile', input.mobile) : undefined;
  const sourceKey = input.sourceId ? `${corpId}|${input.source}|${input.sourceId}` : undefined;
  const existing = await findDuplicate(
    corpId,
    sourceKey,
    mobileHash,
    dayjs.utc(now).subtract(ctx.settings.duplicateWindowDays, 'day').toDate(),
  );
  if (existing) return merge(existing._id, input, at, index, actor, now);

  const leadId = new Types.ObjectId();
  const decision: RoutingDecision = await routeLead(ctx, input, now);
  const assigned = decision.kind === 'assigned';
  try {
    await withOutbox({ queues: deps.queues, logger: deps.logger }, async (events) => {
      await LeadModel.create({
        _id: leadId,
        corpId,
        source: input.source,
        sourceId: input.sourceId,
        sourceKey,
        model: input.model,
        budget: input.budget,
        preferredTime: input.preferredTime,
        consentRef: input.consentRef,
        nameEnc: deps.pd.sealFor(leadCtx({ corpId, leadId: String(leadId) }, 'nameEnc'), input.name),
        mobileEnc: deps.pd.sealFor(leadCtx({ corpId, leadId: String(leadId) }, 'mobileEnc'), input.mobile),
        mobileHash,
        nameHash: input.name ? deps.pd.hash('name', input.name) : undefined,
        stage: 'new',
        lastInterestAt: at,
        ...(assigned
          ? {
              advisorUserid: decision.advisorUserid,
              assignment: 1,
              assignedAt: now,
              slaDueAt: decision.slaDueAt,
              slaCheckpointAt: decision.slaDueAt,
            }
          : { routeAt: decision.routeAt }),
        history: [
          { at: now, actor, action: 'created', detail: { source: input.source } },
          assigned
            ? {
                at: now,
                actor: 'system',
                action: 'assigned',
                detail: { to: decision.advisorUserid, rule: decision.rule, onDuty: decision.onDuty },
              }
            : { at: now, actor: 'system', action: 'waiting', detail: { reason: decision.reason, rule: decision.rule } },
        ],
      });
      events.record({
        type: 'lead.created',
        corpId,
        sourceId: `lead-${String(leadId)}`,
        occurredAt: now.toISOString(),
        userid: assigned ? decision.advisorUserid : undefined,
        data: { leadId: String(leadId), source: input.source, model: input.model ?? null, assigned },
      });
    });
  } catch (err) {
    if (assigned) await adjustLeadCount(deps.queues, corpId, decision.advisorUserid, -1);
    // Two pushes of the same platform id at once: the second loses the unique index and merges.
    if ((err as { code?: number }).code === 11000 && sourceKey) {
      const again = await LeadModel.findOne({ sourceKey }, { _id: 1 }).lean();
      if (again) return merge(again._id, input, at, index, actor);
    }
    throw err;
  }
  if (assigned) await leadCardJob.enqueue(deps.queues, { corpId, leadId: String(leadId), assignment: 1 });
  return {
    index,
    status: 'created',
    leadId: String(leadId),
    advisorUserid: assigned ? decision.advisorUserid : null,
    routeAt: assigned ? null : decision.routeAt.toISOString(),
  };
}

async function findDuplicate(
  corpId: string,
  sourceKey: string | undefined,
  mobileHash: string | undefined,
  since: Date,
) {
  if (sourceKey) {
    const bySource = await LeadModel.findOne({ sourceKey }, { _id: 1 }).lean();
    if (bySource) return bySource;
  }
  if (!mobileHash) return null;
  return LeadModel.findOne(
    { corpId, mobileHash, $or: [{ lastInterestAt: { $gte: since } }, { stage: { $in: [...OPEN_LEAD_STAGES] } }] },
    { _id: 1 },
  )
    .sort({ lastInterestAt: -1 })
    .lean();
}

async function merge(
  id: Types.ObjectId,
  input: LeadInput,
  at: Date,
  index: number,
  actor: string,
  now: Date = at,
): Promise<LeadItemResult> {
  const fill: Record<string, string> = {};
  const lead = await LeadModel.findById(id, { model: 1, budget: 1, preferredTime: 1, consentRef: 1 }).lean();
  for (const key of ['model', 'budget', 'preferredTime', 'consentRef'] as const) {
    if (input[key] && !lead?.[key]) fill[key] = input[key];
  }
  const updated = await LeadModel.findOneAndUpdate(
    { _id: id },
    {
      $inc: { repeatCount: 1 },
      $max: { lastInterestAt: at },
      $set: fill,
      $push: { history: { at: now, actor, action: 'repeat_interest', detail: { source: input.source } } },
    },
    { new: true, projection: { repeatCount: 1 } },
  ).lean();
  return { index, status: 'merged', leadId: String(id), repeatCount: updated?.repeatCount ?? 1 };
}
