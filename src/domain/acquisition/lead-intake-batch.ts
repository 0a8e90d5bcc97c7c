import { Types, type AnyBulkWriteOperation } from 'mongoose';
import { dayjs } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import { leadCardsJob } from '../../queues/jobs/acquisition.jobs.js';
import { QueueName } from '../../queues/queue-names.js';
import type { Queues } from '../../queues/queue-factory.js';
import { leadCtx, type PersonalData } from '../customers/personal-data.js';
import { withOutbox } from '../events/outbox.js';
import type { LeadInput } from './lead-input.js';
import { adjustLeadCount } from './lead-counters.js';
import { routeLead, type RoutingContext, type RoutingDecision } from './lead-routing.js';
import { LeadModel, OPEN_LEAD_STAGES, type Lead } from './lead.model.js';

/** One valid item waiting for intake, with the keys it is de-duplicated by. */
export interface Arrival {
  input: LeadInput;
  actor: string;
  /** Keyed hash of the mobile (docs/architecture.md §7). */
  mobileHash?: string;
  /** `<corpId>|<source>|<sourceId>`: unique per lead. */
  sourceKey?: string;
}

export type BatchItemResult =
  | { status: 'created'; leadId: string; advisorUserid: string | null; routeAt: string | null }
  | { status: 'merged'; leadId: string; repeatCount: number };

export interface BatchDeps {
  pd: PersonalData;
  queues: Queues;
  logger?: Logger;
}

/** What a duplicate merges into: a stored lead, or a lead this batch creates. */
type Target =
  | { kind: 'stored'; id: Types.ObjectId; doc: StoredLead; merges: Arrival[] }
  | { kind: 'new'; id: Types.ObjectId; first: Arrival; merges: Arrival[]; decision?: RoutingDecision };

type FillKey = 'model' | 'budget' | 'preferredTime' | 'consentRef';
const FILLED: readonly FillKey[] = ['model', 'budget', 'preferredTime', 'consentRef'];
type StoredLead = Pick<Lead, FillKey | 'sourceKey' | 'mobileHash' | 'lastInterestAt' | 'stage' | 'repeatCount'> & {
  _id: Types.ObjectId;
};

/**
 * Applies a batch of valid leads of one corp (docs/acquisition.md "Intake"): one query finds every
 * stored duplicate (by platform id, or by mobile within the window or still open), duplicates
 * inside the batch merge into the first of them, new leads are routed together (one pool read, one
 * atomic pick), and the new leads, the merges and their `lead.created` events are written in one
 * transaction; the advisors' card jobs (one per advisor) go to Redis in one call. Results in the order of `arrivals`.
 */
export async function ingestBatch(
  deps: BatchDeps,
  ctx: RoutingContext,
  arrivals: readonly Arrival[],
  now: Date,
  retried = false,
): Promise<BatchItemResult[]> {
  const corpId = ctx.corpId;
  const since = dayjs.utc(now).subtract(ctx.settings.duplicateWindowDays, 'day').toDate();
  const { bySource, byMobile } = await storedDuplicates(corpId, arrivals, since);

  // Plan in arrival order: each item is new, or merges into the first lead it matches.
  const targets: Target[] = [];
  const plan: Target[] = [];
  const sourceTarget = new Map<string, Target>();
  const mobileTarget = new Map<string, Target>();
  const storedTarget = (doc: StoredLead): Target => {
    let t = targets.find((x) => x.kind === 'stored' && x.id.equals(doc._id));
    if (!t) targets.push((t = { kind: 'stored', id: doc._id, doc, merges: [] }));
    return t;
  };
  for (const a of arrivals) {
    const source = a.sourceKey ? (sourceTarget.get(a.sourceKey) ?? bySource.get(a.sourceKey)) : undefined;
    const mobile = a.mobileHash ? (mobileTarget.get(a.mobileHash) ?? byMobile.get(a.mobileHash)) : undefined;
    const match = source ?? mobile;
    if (match) {
      const t = 'kind' in match ? match : storedTarget(match);
      t.merges.push(a);
      plan.push(t);
      continue;
    }
    const t: Target = { kind: 'new', id: new Types.ObjectId(), first: a, merges: [] };
    targets.push(t);
    plan.push(t);
    if (a.sourceKey) sourceTarget.set(a.sourceKey, t);
    if (a.mobileHash) mobileTarget.set(a.mobileHash, t);
  }

  const fresh = targets.filter((t): t is Extract<Target, { kind: 'new' }> => t.kind === 'new');
  // Started together, the routings of one pool share one read and one pick (lead-routing.ts).
  const decisions = await Promise.all(fresh.map((t) => routeLead(ctx, t.first.input, now)));
  fresh.forEach((t, i) => (t.decision = decisions[i]));
  const assigned = fresh.filter((t) => t.decision?.kind === 'assigned');

  const docs = fresh.map((t) => newLeadDoc(deps.pd, corpId, t, now));
  const merges = targets.flatMap((t) => (t.kind === 'stored' ? [mergeOp(t, corpId, now)] : []));
  try {
    await withOutbox({ queues: deps.queues, logger: deps.logger }, async (events) => {
      if (docs.length) await LeadModel.insertMany(docs, { ordered: true });
      if (merges.length) await LeadModel.bulkWrite(merges, { ordered: true });
      for (const t of fresh) {
        const d = t.decision as RoutingDecision;
        events.record({
          type: 'lead.created',
          corpId,
          sourceId: `lead-${String(t.id)}`,
          occurredAt: now.toISOString(),
          userid: d.kind === 'assigned' ? d.advisorUserid : undefined,
          data: {
            leadId: String(t.id),
            source: t.first.input.source,
            model: t.first.input.model ?? null,
            assigned: d.kind === 'assigned',
          },
        });
      }
    });
  } catch (err) {
    await Promise.all(
      assigned.map((t) =>
        t.decision?.kind === 'assigned'
          ? adjustLeadCount(deps.queues, corpId, t.decision.advisorUserid, -1)
          : undefined,
      ),
    );
    // Another process stored the same platform id meanwhile: the batch is written again and that
    // item now merges (the unique index on `sourceKey` decides, docs/acquisition.md "Duplicates").
    if ((err as { code?: number }).code === 11000 && !retried) return ingestBatch(deps, ctx, arrivals, now, true);
    throw err;
  }
  // One card job per advisor of the batch, carrying the lead ids in arrival order (lead-card-pacing.ts).
  const perAdvisor = new Map<string, Array<{ leadId: string; assignment: number }>>();
  for (const t of assigned) {
    if (t.decision?.kind !== 'assigned') continue;
    const list = perAdvisor.get(t.decision.advisorUserid) ?? [];
    list.push({ leadId: String(t.id), assignment: 1 });
    perAdvisor.set(t.decision.advisorUserid, list);
  }
  if (perAdvisor.size)
    await deps.queues
      .get(QueueName.scheduled)
      .addBulk(
        [...perAdvisor].map(([advisorUserid, leads]) => leadCardsJob.bulkEntry({ corpId, advisorUserid, leads })),
      );

  // Repeat counts as each item saw them: the n-th merge into a lead reports its n-th repeat.
  const seen = new Map<Target, number>();
  return arrivals.map((a, i): BatchItemResult => {
    const t = plan[i] as Target;
    if (t.kind === 'new' && t.first === a) {
      const d = t.decision as RoutingDecision;
      return {
        status: 'created',
        leadId: String(t.id),
        advisorUserid: d.kind === 'assigned' ? d.advisorUserid : null,
        routeAt: d.kind === 'assigned' ? null : d.routeAt.toISOString(),
      };
    }
    const n = (seen.get(t) ?? 0) + 1;
    seen.set(t, n);
    const base = t.kind === 'stored' ? (t.doc.repeatCount ?? 0) : 0;
    return { status: 'merged', leadId: String(t.id), repeatCount: base + n };
  });
}

/** Every stored lead the batch's items duplicate, in one query (platform ids, then mobiles). */
async function storedDuplicates(corpId: string, arrivals: readonly Arrival[], since: Date) {
  const sourceKeys = [...new Set(arrivals.flatMap((a) => (a.sourceKey ? [a.sourceKey] : [])))];
  const hashes = [...new Set(arrivals.flatMap((a) => (a.mobileHash ? [a.mobileHash] : [])))];
  const projection = { sourceKey: 1, mobileHash: 1, lastInterestAt: 1, stage: 1, repeatCount: 1, ...fillProjection };
  // Two index lookups side by side rather than one `$or` (which a planner may answer with a scan).
  const [bySourceRows, byMobileRows] = await Promise.all([
    sourceKeys.length
      ? LeadModel.find({ corpId, sourceKey: { $in: sourceKeys } }, projection).lean<StoredLead[]>()
      : [],
    hashes.length ? LeadModel.find({ corpId, mobileHash: { $in: hashes } }, projection).lean<StoredLead[]>() : [],
  ]);
  const rows = [...bySourceRows, ...byMobileRows];
  const bySource = new Map<string, StoredLead>();
  const byMobile = new Map<string, StoredLead>();
  const open = new Set<string>(OPEN_LEAD_STAGES);
  for (const row of rows) {
    if (row.sourceKey && sourceKeys.includes(row.sourceKey)) bySource.set(row.sourceKey, row);
    // By mobile only a lead still open or with interest inside the window; the latest interest wins.
    if (!row.mobileHash || !(row.lastInterestAt >= since || open.has(row.stage ?? ''))) continue;
    const held = byMobile.get(row.mobileHash);
    if (!held || row.lastInterestAt > held.lastInterestAt) byMobile.set(row.mobileHash, row);
  }
  return { bySource, byMobile };
}
const fillProjection = Object.fromEntries(FILLED.map((k) => [k, 1]));

/** Fields a duplicate brings that the lead lacks (the earliest item's value wins). */
function fillsFor(
  have: Partial<Record<FillKey, unknown>>,
  merges: readonly Arrival[],
): Partial<Record<FillKey, string>> {
  const fill: Partial<Record<FillKey, string>> = {};
  for (const a of merges)
    for (const key of FILLED) {
      const value = a.input[key];
      if (value && !have[key] && !fill[key]) fill[key] = value;
    }
  return fill;
}

const atOf = (a: Arrival, now: Date): Date => (a.input.at ? new Date(a.input.at) : now);
const repeatEntry = (a: Arrival, now: Date) => ({
  at: now,
  actor: a.actor,
  action: 'repeat_interest',
  detail: { source: a.input.source },
});

/** The update that merges a stored lead's duplicates: repeat interest counted, fields filled, history. */
function mergeOp(t: Extract<Target, { kind: 'stored' }>, corpId: string, now: Date): AnyBulkWriteOperation {
  const latest = new Date(Math.max(...t.merges.map((a) => atOf(a, now).getTime())));
  return {
    updateOne: {
      filter: { _id: t.id, corpId },
      update: {
        $inc: { repeatCount: t.merges.length },
        $max: { lastInterestAt: latest },
        $set: fillsFor(t.doc, t.merges),
        $push: { history: { $each: t.merges.map((a) => repeatEntry(a, now)) } },
      },
    },
  };
}

/** A new lead as stored: sealed name and mobile, routing outcome, history, and its batch's duplicates merged in. */
function newLeadDoc(pd: PersonalData, corpId: string, t: Extract<Target, { kind: 'new' }>, now: Date) {
  const { input, actor, mobileHash, sourceKey } = t.first;
  const leadId = String(t.id);
  const d = t.decision as RoutingDecision;
  const interest = [t.first, ...t.merges].map((a) => atOf(a, now).getTime());
  return {
    _id: t.id,
    corpId,
    source: input.source,
    sourceId: input.sourceId,
    sourceKey,
    model: input.model,
    budget: input.budget,
    preferredTime: input.preferredTime,
    consentRef: input.consentRef,
    ...fillsFor(input, t.merges),
    nameEnc: pd.sealFor(leadCtx({ corpId, leadId }, 'nameEnc'), input.name),
    mobileEnc: pd.sealFor(leadCtx({ corpId, leadId }, 'mobileEnc'), input.mobile),
    mobileHash,
    nameHash: input.name ? pd.hash('name', input.name) : undefined,
    stage: 'new',
    repeatCount: t.merges.length,
    lastInterestAt: new Date(Math.max(...interest)),
    ...(d.kind === 'assigned'
      ? {
          advisorUserid: d.advisorUserid,
          assignment: 1,
          assignedAt: now,
          slaDueAt: d.slaDueAt,
          slaCheckpointAt: d.slaDueAt,
        }
      : { routeAt: d.routeAt }),
    history: [
      { at: now, actor, action: 'created', detail: { source: input.source } },
      d.kind === 'assigned'
        ? {
            at: now,
            actor: 'system',
            action: 'assigned',
            detail: { to: d.advisorUserid, rule: d.rule, onDuty: d.onDuty },
          }
        : { at: now, actor: 'system', action: 'waiting', detail: { reason: d.reason, rule: d.rule } },
      ...t.merges.map((a) => repeatEntry(a, now)),
    ],
  };
}
