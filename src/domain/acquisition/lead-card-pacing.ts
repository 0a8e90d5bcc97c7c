import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import { leadCardFlushJob } from '../../queues/jobs/acquisition.jobs.js';
import type { TaskDeps } from '../tasks/task-deps.js';
import { budgetLeft, countSent, sendCardOnce, sendMarkdownDigest } from '../tasks/task-notify.js';
import { LEAD_SOURCE_LABEL, buildLeadCard, leadPageUrl } from './lead-card.js';
import { LeadModel, type LeadLean } from './lead.model.js';

/**
 * Lead cards paced per advisor (docs/acquisition.md "Cards in a burst"). WeCom takes at most 30 app
 * messages a minute and 1,000 an hour to one member and drops the rest without an error
 * (docs/wecom.md §5), so a burst of leads to one advisor would lose cards. Every lead card takes a
 * place in the advisor's sliding window in Redis first; a lead that finds no place (or finds
 * others already waiting) waits in the advisor's waiting set, and when places free up the waiting
 * leads go out as their own cards if places remain for all, else as one digest listing them.
 */

/** Of the hour's 1,000 per member: the lead cards' share, the rest left to tasks and escalations. */
export const LEAD_CARDS_PER_HOUR = 600;
const HOUR_MS = 3_600_000;

/** One hash tag per advisor: the window and the waiting set sit in one cluster slot (docs/scale.md §1). */
function keysOf(deps: Pick<TaskDeps, 'keyPrefix' | 'corpId'>, userid: string) {
  const tag = `${deps.keyPrefix}:{lead-cards:${deps.corpId}:${userid}}`;
  return { sent: `${tag}:sent`, waiting: `${tag}:waiting`, flushing: `${tag}:flushing` };
}

/**
 * KEYS: sent (sorted set of sends, score = ms), waiting (lead refs, score = ms).
 * ARGV: now, window ms, per window, per hour, mode, lead ref (mode `card`) or wanted places
 * (mode `flush`), a unique token. Mode `card`: one place for a lead's own card unless leads are
 * already waiting (they go first); without a place the lead joins the waiting set. Mode `flush`:
 * as many places as wanted when free, else one (for a digest), else none. Returns {places taken,
 * ms until a place frees}.
 */
const TAKE = `
local now, win, perWin, perHour = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ${HOUR_MS})
local inWin = redis.call('ZCOUNT', KEYS[1], now - win, '+inf')
local inHour = redis.call('ZCARD', KEYS[1])
local free = math.min(perWin - inWin, perHour - inHour)
local function waitMs()
  local w = 0
  if inWin >= perWin then
    local s = redis.call('ZRANGEBYSCORE', KEYS[1], now - win, '+inf', 'WITHSCORES', 'LIMIT', inWin - perWin, 1)
    w = math.max(w, tonumber(s[2]) + win - now)
  end
  if inHour >= perHour then
    local s = redis.call('ZRANGE', KEYS[1], inHour - perHour, inHour - perHour, 'WITHSCORES')
    w = math.max(w, tonumber(s[2]) + ${HOUR_MS} - now)
  end
  return math.max(w, 1)
end
local take = 0
if ARGV[5] == 'card' then
  if free >= 1 and redis.call('ZCARD', KEYS[2]) == 0 then
    take = 1
  else
    redis.call('ZADD', KEYS[2], 'NX', now, ARGV[6])
    redis.call('PEXPIRE', KEYS[2], 2 * ${HOUR_MS})
  end
else
  local want = tonumber(ARGV[6])
  if free >= want then take = want elseif free >= 1 then take = 1 end
end
for i = 1, take do redis.call('ZADD', KEYS[1], now, ARGV[7] .. ':' .. i) end
if take > 0 then
  redis.call('PEXPIRE', KEYS[1], ${HOUR_MS})
  return {take, 0}
end
return {0, waitMs()}
`;

interface Window {
  perWindow: number;
  windowMs: number;
}
const windowOf = (deps: Pick<TaskDeps, 'tuning'>): Window => ({
  perWindow: deps.tuning.leadCardsPerWindow,
  windowMs: deps.tuning.leadCardWindowMs,
});

async function take(
  deps: Pick<TaskDeps, 'redis' | 'keyPrefix' | 'corpId' | 'tuning'>,
  userid: string,
  mode: 'card' | 'flush',
  arg: string | number,
): Promise<{ took: number; waitMs: number }> {
  const k = keysOf(deps, userid);
  const w = windowOf(deps);
  const token = new Types.ObjectId().toHexString();
  const [took, waitMs] = (await (deps.redis as Redis).eval(
    TAKE,
    2,
    k.sent,
    k.waiting,
    Date.now(),
    w.windowMs,
    w.perWindow,
    LEAD_CARDS_PER_HOUR,
    mode,
    String(arg),
    token,
  )) as [number, number];
  return { took, waitMs };
}

/** Places the advisor's other messages (tasks, escalations) left this minute: no lead card takes the last ones. */
async function messagesAllowed(deps: TaskDeps, userid: string): Promise<boolean> {
  return (await budgetLeft(deps, userid)) > 0;
}

const leadRef = (leadId: string, assignment: number) => `${leadId}-${assignment}`;

/** Asks for the waiting leads of `userid` to go out once a place frees (one job per moment). */
async function scheduleFlush(deps: TaskDeps, userid: string, waitMs: number): Promise<void> {
  const at = Date.now() + waitMs;
  await leadCardFlushJob.enqueue(
    deps.queues,
    { corpId: deps.corpId, advisorUserid: userid },
    { delay: waitMs, jobId: `lead-card-flush-${deps.corpId}-${userid}-${Math.ceil(at / 1000)}` },
  );
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
  const lead = (await LeadModel.findOne({
    _id: new Types.ObjectId(leadId),
    corpId: deps.corpId,
  }).lean()) as LeadLean | null;
  if (!lead?.advisorUserid || lead.assignment !== assignment || lead.stage !== 'new') return 'stale';
  const userid = lead.advisorUserid;
  const r = (await messagesAllowed(deps, userid))
    ? await take(deps, userid, 'card', leadRef(leadId, assignment))
    : await waitFor(deps, userid, leadRef(leadId, assignment));
  if (r.took === 0) {
    await scheduleFlush(deps, userid, r.waitMs);
    return 'waiting';
  }
  const out = await sendCardOnce(deps, userid, await buildLeadCard(deps, lead));
  if (!out.duplicate) await countSent(deps, userid);
  return out.duplicate ? 'duplicate' : 'sent';
}

/** Joins the waiting set without taking a place (the member's minute is used up by other messages). */
async function waitFor(deps: TaskDeps, userid: string, ref: string): Promise<{ took: number; waitMs: number }> {
  const k = keysOf(deps, userid);
  await deps.redis
    .multi()
    .zadd(k.waiting, 'NX', Date.now(), ref)
    .pexpire(k.waiting, 2 * HOUR_MS)
    .exec();
  return { took: 0, waitMs: 60_000 - (deps.clock.nowMs() % 60_000) };
}

export interface FlushOutcome {
  cards: number;
  digest: number;
  stale: number;
  waiting: number;
}

/**
 * The `lead-card-flush` job: the advisor's waiting leads still new and still theirs go out — each
 * as its own card when the window has a place for every one, else all in one digest. Leads that
 * joined meanwhile are left for the next flush, which is asked for before returning.
 */
export async function flushLeadCards(deps: TaskDeps, userid: string): Promise<FlushOutcome | 'busy'> {
  const k = keysOf(deps, userid);
  // One flush per advisor at a time (across workers): two would announce the same leads twice.
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

async function flushHeld(deps: TaskDeps, userid: string, k: ReturnType<typeof keysOf>): Promise<FlushOutcome> {
  const outcome: FlushOutcome = { cards: 0, digest: 0, stale: 0, waiting: 0 };
  const refs = await deps.redis.zrange(k.waiting, 0, -1);
  const parsed = refs.flatMap((ref) => {
    const m = /^([a-f0-9]{24})-(\d+)$/.exec(ref);
    return m ? [{ ref, leadId: m[1] as string, assignment: Number(m[2]) }] : [];
  });
  const leads = parsed.length
    ? ((await LeadModel.find({
        corpId: deps.corpId,
        _id: { $in: parsed.map((p) => new Types.ObjectId(p.leadId)) },
      }).lean()) as LeadLean[])
    : [];
  const byId = new Map(leads.map((l) => [String(l._id), l]));
  const due: Array<{ ref: string; lead: LeadLean }> = [];
  const gone: string[] = refs.filter((ref) => !parsed.some((p) => p.ref === ref));
  for (const p of parsed) {
    const lead = byId.get(p.leadId);
    if (lead?.advisorUserid === userid && lead.assignment === p.assignment && lead.stage === 'new')
      due.push({ ref: p.ref, lead });
    else gone.push(p.ref);
  }
  if (gone.length) await deps.redis.zrem(k.waiting, ...gone);
  outcome.stale = gone.length;
  if (due.length === 0) return outcome;

  const r = (await messagesAllowed(deps, userid))
    ? await take(deps, userid, 'flush', due.length)
    : { took: 0, waitMs: 60_000 - (deps.clock.nowMs() % 60_000) };
  if (r.took === 0) {
    await scheduleFlush(deps, userid, r.waitMs);
    return { ...outcome, waiting: due.length };
  }
  if (r.took >= due.length) {
    for (const { ref, lead } of due) {
      const out = await sendCardOnce(deps, userid, await buildLeadCard(deps, lead));
      if (!out.duplicate) await countSent(deps, userid);
      await deps.redis.zrem(k.waiting, ref);
      outcome.cards++;
    }
  } else {
    await sendDigest(
      deps,
      userid,
      due.map((d) => d.lead),
    );
    await deps.redis.zrem(k.waiting, ...due.map((d) => d.ref));
    outcome.digest = due.length;
  }
  // Leads that joined while this flush ran wait for the next one.
  const left = await deps.redis.zcard(k.waiting);
  if (left > 0) {
    await scheduleFlush(deps, userid, 1000);
    outcome.waiting = left;
  }
  return outcome;
}

/**
 * One markdown message for many waiting leads: how many, from which sources, one line per lead
 * with a link to its page (as many as fit), and the advisor's lead list. The leads' history says
 * they were announced in a digest. Names and mobiles stay on the lead pages.
 */
async function sendDigest(deps: TaskDeps, userid: string, leads: LeadLean[]): Promise<void> {
  const perSource = new Map<string, number>();
  for (const l of leads) perSource.set(l.source, (perSource.get(l.source) ?? 0) + 1);
  await sendMarkdownDigest(deps, userid, {
    head: [
      `## 您有 <font color="warning">${leads.length}</font> 条新线索待联系`,
      `来源：${[...perSource].map(([s, n]) => `${LEAD_SOURCE_LABEL[s] ?? s} ${n}`).join(' · ')}`,
    ],
    items: leads,
    line: (l, n) => {
      const label = [LEAD_SOURCE_LABEL[l.source] ?? l.source, l.model].filter(Boolean).join(' · ');
      return `${n}. [${label}](${leadPageUrl(deps.publicBaseUrl, String(l._id))})`;
    },
    foot: [`[打开我的线索](${deps.publicBaseUrl}/console/m/leads)`],
  });
  const now = deps.clock.now();
  await LeadModel.updateMany(
    { corpId: deps.corpId, _id: { $in: leads.map((l) => l._id) } },
    { $push: { history: { at: now, actor: 'system', action: 'card_digest', detail: { count: leads.length } } } },
  );
}
