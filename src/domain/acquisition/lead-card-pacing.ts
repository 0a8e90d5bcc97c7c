import { Types } from 'mongoose';
import { leadCardFlushJob } from '../../queues/jobs/acquisition.jobs.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { budgetLeft, countSent, sendCardOnce, sendMarkdownDigest } from '../tasks/task-notify.js';
import { LEAD_SOURCE_LABEL, buildLeadCard, escalationCard, leadCodeOf, leadPageUrl } from './lead-card.js';
import { joinWaiting, takePlaces, windowKeys } from './lead-card-window.js';
import { LeadModel, type LeadLean } from './lead.model.js';

/**
 * Lead messages paced per advisor (docs/acquisition.md "Cards in a burst"). WeCom takes at most 30
 * app messages a minute and 1,000 an hour to one member and drops the rest without an error
 * (docs/wecom.md §5), so a burst of leads to one advisor would lose cards. Every lead message — the
 * new-lead card, the SLA reminder, the leaders' escalation — takes a place in the recipient's
 * window in Redis first (lead-card-window.ts); one that finds no place (or finds others already
 * waiting) waits in the recipient's waiting set, and the next flush sends the waiting ones as
 * their own messages if places remain for all, one of them alone, else one digest listing them.
 */

/** What a waiting entry announces: a new lead's card, the SLA reminder, or an escalation to a leader. */
type Kind = 'card' | 'remind' | 'escalate';
const SUFFIX: Record<Kind, string> = { card: '', remind: '-r', escalate: '-e' };
const leadRef = (leadId: string, assignment: number, kind: Kind) => `${leadId}-${assignment}${SUFFIX[kind]}`;
function parseRef(ref: string): { ref: string; leadId: string; assignment: number; kind: Kind } | undefined {
  const m = /^([a-f0-9]{24})-(\d+)(-r|-e)?$/.exec(ref);
  if (!m) return undefined;
  const kind: Kind = m[3] === '-r' ? 'remind' : m[3] === '-e' ? 'escalate' : 'card';
  return { ref, leadId: m[1] as string, assignment: Number(m[2]), kind };
}

/** Places the member's other messages (tasks) left this minute: no lead message takes the last ones. */
async function messagesAllowed(deps: TaskDeps, userid: string): Promise<boolean> {
  return (await budgetLeft(deps, userid)) > 0;
}

/** Flush requests falling in one slot of this many ms share one job. */
const FLUSH_SLOT_MS = 100;

/**
 * Asks for the waiting messages of `userid` to go out once a place frees: one job per recipient and
 * slot, run at the slot's end, so every request made before it runs is served by it (a request
 * made later falls in a later slot and never meets a finished job's id).
 */
async function scheduleFlush(deps: TaskDeps, userid: string, waitMs: number): Promise<void> {
  const now = Date.now();
  const slot = Math.ceil((now + waitMs) / FLUSH_SLOT_MS);
  await leadCardFlushJob.enqueue(
    deps.queues,
    { corpId: deps.corpId, advisorUserid: userid },
    { delay: Math.max(0, slot * FLUSH_SLOT_MS - now), jobId: `lead-card-flush-${deps.corpId}-${userid}-${slot}` },
  );
}

/**
 * One lead message to `userid`, paced: sent now when the window has a place and nobody waits, else
 * it waits for the next flush. `send` returns whether WeCom had seen it already (a retried job).
 */
async function paced(
  deps: TaskDeps,
  userid: string,
  ref: string,
  send: () => Promise<boolean>,
): Promise<'sent' | 'duplicate' | 'waiting'> {
  const r = (await messagesAllowed(deps, userid))
    ? await takePlaces(deps, userid, 'card', ref)
    : await joinWaiting(deps, userid, ref);
  if (r.took === 0) {
    await scheduleFlush(deps, userid, r.waitMs);
    return 'waiting';
  }
  const duplicate = await send();
  if (!duplicate) await countSent(deps, userid);
  return duplicate ? 'duplicate' : 'sent';
}

const findLead = async (deps: TaskDeps, leadId: string) =>
  (await LeadModel.findOne({ _id: new Types.ObjectId(leadId), corpId: deps.corpId }).lean()) as LeadLean | null;

/** The SLA reminder's note on the advisor's card. */
export const REMINDER_NOTE = '首次联系已超时，请立即联系';

/** Sends one waiting entry as its own message (the kind decides which). */
async function sendOwn(deps: TaskDeps, userid: string, kind: Kind, lead: LeadLean): Promise<boolean> {
  const card =
    kind === 'escalate'
      ? escalationCard(deps, lead, userid)
      : await buildLeadCard(deps, lead, kind === 'remind' ? REMINDER_NOTE : undefined);
  return (await sendCardOnce(deps, userid, card)).duplicate;
}

/**
 * The `lead-card` job: the lead's own card when the advisor's window has a place and nobody waits,
 * else the lead waits for the next flush (docs/acquisition.md "Cards in a burst").
 */
export async function deliverLeadCard(
  deps: TaskDeps,
  leadId: string,
  assignment: number,
): Promise<'sent' | 'duplicate' | 'stale' | 'waiting'> {
  const lead = await findLead(deps, leadId);
  if (!lead?.advisorUserid || lead.assignment !== assignment || lead.stage !== 'new') return 'stale';
  const userid = lead.advisorUserid;
  return paced(deps, userid, leadRef(leadId, assignment, 'card'), () => sendOwn(deps, userid, 'card', lead));
}

export interface CardsOutcome {
  sent: number;
  duplicate: number;
  stale: number;
  waiting: number;
}

/**
 * The `lead-cards` job: one advisor's new leads of one intake batch (docs/acquisition.md "Cards in
 * a burst"). One window call takes own places for as many as the window (and the member's other
 * budget) has room for while nobody waits, in the batch's order, and puts the rest in the waiting
 * set; one flush is asked for when any waits. Only the leads that got a place are read (one
 * query): the waiting ones are read by the flush, which drops those no longer due.
 */
export async function deliverLeadCards(
  deps: TaskDeps,
  userid: string,
  leads: ReadonlyArray<{ leadId: string; assignment: number }>,
): Promise<CardsOutcome> {
  const outcome: CardsOutcome = { sent: 0, duplicate: 0, stale: 0, waiting: 0 };
  if (leads.length === 0) return outcome;
  const refs = leads.map((l) => leadRef(l.leadId, l.assignment, 'card'));
  const cap = await budgetLeft(deps, userid);
  const r =
    cap > 0 ? await takePlaces(deps, userid, 'cards', refs.join(','), cap) : await joinWaiting(deps, userid, refs);
  outcome.waiting = leads.length - r.took;
  if (outcome.waiting > 0) await scheduleFlush(deps, userid, r.waitMs);
  if (r.took === 0) return outcome;
  const placed = leads.slice(0, r.took);
  const found = (await LeadModel.find({
    corpId: deps.corpId,
    _id: { $in: placed.map((l) => new Types.ObjectId(l.leadId)) },
  }).lean()) as LeadLean[];
  const byId = new Map(found.map((l) => [String(l._id), l]));
  // The advisor's lead code, looked up once for the cards of this job.
  let known: { code: string | undefined } | undefined;
  for (const { leadId, assignment } of placed) {
    const lead = byId.get(leadId);
    // Contacted, closed or handed over since the batch: its place stays taken (never more sends
    // than places), the lead needs no card.
    if (
      !lead?.advisorUserid ||
      lead.advisorUserid !== userid ||
      lead.assignment !== assignment ||
      lead.stage !== 'new'
    ) {
      outcome.stale++;
      continue;
    }
    known ??= { code: await leadCodeOf(deps.corpId, userid) };
    if ((await sendCardOnce(deps, userid, await buildLeadCard(deps, lead, undefined, known))).duplicate)
      outcome.duplicate++;
    else outcome.sent++;
  }
  if (outcome.sent > 0) await countSent(deps, userid, outcome.sent);
  return outcome;
}

/** The SLA reminder (ladder step 1, lead-sla.ts) to the lead's advisor, paced like the first card. */
export async function deliverLeadReminder(
  deps: TaskDeps,
  lead: LeadLean,
): Promise<'sent' | 'duplicate' | 'stale' | 'waiting'> {
  const userid = lead.advisorUserid;
  if (!userid || lead.stage !== 'new') return 'stale';
  const ref = leadRef(String(lead._id), lead.assignment ?? 1, 'remind');
  return paced(deps, userid, ref, () => sendOwn(deps, userid, 'remind', lead));
}

/**
 * The escalation (ladder step 2, lead-sla.ts) to each of the advisor's leaders, paced per leader
 * like the first card: a leader whose window is full gets it in their next flush. Returns the
 * leaders told or waiting.
 */
export async function deliverLeadEscalation(deps: TaskDeps, lead: LeadLean, leaders: string[]): Promise<string[]> {
  const ref = leadRef(String(lead._id), lead.assignment ?? 1, 'escalate');
  for (const leader of leaders) await paced(deps, leader, ref, () => sendOwn(deps, leader, 'escalate', lead));
  return leaders;
}

export interface FlushOutcome {
  cards: number;
  digest: number;
  stale: number;
  waiting: number;
}

/**
 * The `lead-card-flush` job: the recipient's waiting messages still due go out — each as its own
 * message when the window has a place for every one (or only one waits), else all in one digest.
 * Entries that joined meanwhile are left for the next flush, which is asked for before returning.
 */
export async function flushLeadCards(deps: TaskDeps, userid: string): Promise<FlushOutcome | 'busy'> {
  const k = windowKeys(deps, userid);
  // One flush per recipient at a time (across workers): two would announce the same leads twice.
  // A flush that finds another running leaves its leads to it (it looks again before it ends).
  const token = new Types.ObjectId().toHexString();
  if ((await deps.redis.set(k.flushing, token, 'PX', 60_000, 'NX')) !== 'OK') {
    // Its leads may have joined after the running flush looked for the last time: look again soon.
    await scheduleFlush(deps, userid, 1000);
    return 'busy';
  }
  try {
    return await flushHeld(deps, userid, k);
  } finally {
    await deps.redis.eval(
      "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end",
      1,
      k.flushing,
      token,
    );
  }
}

/** A waiting entry still due: a new lead or reminder still the recipient's and untouched, an escalation still uncontacted. */
function stillDue(userid: string, kind: Kind, assignment: number, lead: LeadLean | undefined): lead is LeadLean {
  if (!lead?.advisorUserid || lead.assignment !== assignment || lead.stage !== 'new') return false;
  return kind === 'escalate' || lead.advisorUserid === userid;
}

type Due = { ref: string; kind: Kind; lead: LeadLean };

async function flushHeld(deps: TaskDeps, userid: string, k: ReturnType<typeof windowKeys>): Promise<FlushOutcome> {
  const outcome: FlushOutcome = { cards: 0, digest: 0, stale: 0, waiting: 0 };
  const refs = await deps.redis.zrange(k.waiting, 0, -1);
  const parsed = refs.flatMap((ref) => parseRef(ref) ?? []);
  const ids = [...new Set(parsed.map((p) => p.leadId))].map((id) => new Types.ObjectId(id));
  const leads = ids.length
    ? ((await LeadModel.find({ corpId: deps.corpId, _id: { $in: ids } }).lean()) as LeadLean[])
    : [];
  const byId = new Map(leads.map((l) => [String(l._id), l]));
  const due: Due[] = [];
  const gone: string[] = refs.filter((ref) => !parseRef(ref));
  for (const p of parsed) {
    const lead = byId.get(p.leadId);
    if (stillDue(userid, p.kind, p.assignment, lead)) due.push({ ref: p.ref, kind: p.kind, lead });
    else gone.push(p.ref);
  }
  if (gone.length) await deps.redis.zrem(k.waiting, ...gone);
  outcome.stale = gone.length;
  if (due.length === 0) return outcome;

  const r = (await messagesAllowed(deps, userid))
    ? await takePlaces(deps, userid, 'flush', due.length)
    : { took: 0, waitMs: 60_000 - (deps.clock.nowMs() % 60_000) };
  if (r.took === 0) {
    await scheduleFlush(deps, userid, r.waitMs);
    return { ...outcome, waiting: due.length };
  }
  if (r.took >= due.length) {
    for (const { ref, kind, lead } of due) {
      if (!(await sendOwn(deps, userid, kind, lead))) await countSent(deps, userid);
      await deps.redis.zrem(k.waiting, ref);
      outcome.cards++;
    }
  } else {
    await sendDigest(deps, userid, due);
    await deps.redis.zrem(k.waiting, ...due.map((d) => d.ref));
    outcome.digest = due.length;
  }
  // Entries that joined while this flush ran wait for the next one.
  const left = await deps.redis.zcard(k.waiting);
  if (left > 0) {
    await scheduleFlush(deps, userid, r.took >= due.length ? 1000 : deps.tuning.leadDigestGapMs);
    outcome.waiting = left;
  }
  return outcome;
}

const DIGEST_HISTORY: Record<Kind, string> = {
  card: 'card_digest',
  remind: 'reminder_digest',
  escalate: 'escalation_digest',
};

/** The digest's headline: new leads first, then overdue ones (the advisor's own, then their team's). */
function digestHeadline(due: readonly Due[]): string[] {
  const count = (kind: Kind) => due.filter((d) => d.kind === kind).length;
  const fresh = due.filter((d) => d.kind === 'card').map((d) => d.lead);
  const lines: string[] = [];
  if (fresh.length) {
    const perSource = new Map<string, number>();
    for (const l of fresh) perSource.set(l.source, (perSource.get(l.source) ?? 0) + 1);
    lines.push(
      `## 您有 <font color="warning">${fresh.length}</font> 条新线索待联系`,
      `来源：${[...perSource].map(([s, n]) => `${LEAD_SOURCE_LABEL[s] ?? s} ${n}`).join(' · ')}`,
    );
  }
  const overdue = count('remind');
  const team = count('escalate');
  if (overdue) lines.push(`${fresh.length ? '' : '## '}<font color="warning">${overdue}</font> 条线索首次联系已超时`);
  if (team)
    lines.push(`${fresh.length || overdue ? '' : '## '}团队有 <font color="warning">${team}</font> 条线索超时未联系`);
  return lines;
}

/**
 * One markdown message for many waiting entries: how many, from which sources, one line per lead
 * with a link to its page (as many as fit; overdue ones marked, a team member's named), and the
 * recipient's lead list. The leads' history says how they were announced. Names and mobiles stay
 * on the lead pages.
 */
async function sendDigest(deps: TaskDeps, userid: string, due: readonly Due[]): Promise<void> {
  await sendMarkdownDigest(deps, userid, {
    head: digestHeadline(due),
    items: due,
    line: ({ kind, lead: l }, n) => {
      const label = [
        kind === 'card' ? undefined : kind === 'remind' ? '超时' : `${l.advisorUserid} 超时`,
        LEAD_SOURCE_LABEL[l.source] ?? l.source,
        l.model,
      ]
        .filter(Boolean)
        .join(' · ');
      return `${n}. [${label}](${leadPageUrl(deps.publicBaseUrl, String(l._id))})`;
    },
    foot: [`[打开我的线索](${deps.publicBaseUrl}/console/m/leads)`],
  });
  const now = deps.clock.now();
  const kinds = [...new Set(due.map((d) => d.kind))];
  await LeadModel.bulkWrite(
    kinds.map((kind) => {
      const of = due.filter((d) => d.kind === kind);
      return {
        updateMany: {
          filter: { corpId: deps.corpId, _id: { $in: of.map((d) => d.lead._id) } },
          update: {
            $push: {
              history: {
                at: now,
                actor: 'system',
                action: DIGEST_HISTORY[kind],
                detail: { count: of.length, to: userid },
              },
            },
          },
        },
      };
    }),
  );
}
