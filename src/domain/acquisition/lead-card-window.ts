import type { Redis } from 'ioredis';
import { Types } from 'mongoose';
import type { TaskDeps } from '../tasks/task-deps.js';

/**
 * The per-advisor window of lead messages (docs/acquisition.md "Cards in a burst"): a sorted set of
 * sends per corp and member in Redis, shared by every worker, the waiting set beside it. WeCom takes
 * at most 30 app messages a minute and 1,000 an hour to one member and drops the rest without an
 * error (docs/wecom.md §5); lead messages (new-lead cards, SLA reminders, escalations, digests) take
 * at most `leadCardsPerWindow` in any `leadCardWindowMs` and 600 an hour of them.
 *
 * The window has two lanes so that a waiting lead is announced within `leadDigestGapMs` even in a
 * burst that lasts: the *flush lane* sends at most one message per gap (a digest, or the one
 * waiting lead's own card), which needs `lanePlaces` places in any window; own cards outside a
 * flush take only the places left (`burstPlaces`), and only while nobody waits. Without the lanes a
 * burst would spend the whole window on own cards in its first seconds and leave the rest waiting
 * until the window moves on, a minute later.
 */

/** Of the hour's 1,000 per member: the lead messages' share, the rest left to tasks. */
export const LEAD_CARDS_PER_HOUR = 600;
const HOUR_MS = 3_600_000;

/** One hash tag per advisor: the window and the waiting set sit in one cluster slot (docs/scale.md §1). */
export function windowKeys(deps: Pick<TaskDeps, 'keyPrefix' | 'corpId'>, userid: string) {
  const tag = `${deps.keyPrefix}:{lead-cards:${deps.corpId}:${userid}}`;
  return { sent: `${tag}:sent`, waiting: `${tag}:waiting`, flushing: `${tag}:flushing`, lane: `${tag}:lane` };
}

export interface WindowShape {
  perWindow: number;
  windowMs: number;
  gapMs: number;
}

/** Sends of the flush lane that can fall in one window: one per gap (half-open window). */
export const lanePlaces = (w: WindowShape): number => Math.floor((w.windowMs - 1) / Math.max(1, w.gapMs)) + 1;
/** Places own cards may use outside a flush, so the flush lane always has its own. */
export const burstPlaces = (w: WindowShape): number => Math.max(0, w.perWindow - lanePlaces(w));

export const windowOf = (deps: Pick<TaskDeps, 'tuning'>): WindowShape => ({
  perWindow: deps.tuning.leadCardsPerWindow,
  windowMs: deps.tuning.leadCardWindowMs,
  gapMs: deps.tuning.leadDigestGapMs,
});

/**
 * KEYS: sent (sorted set of sends, score = ms), waiting (refs, score = ms), lane (ms of the flush
 * lane's last send). ARGV: now, window ms, per window, per hour, burst places, gap ms, mode, ref
 * (mode `card`), refs joined by `,` (mode `cards`) or wanted places (mode `flush`), a unique token,
 * and (mode `cards`) the most places the member's other budget allows.
 * Mode `card`: one place for an own message when the burst places have room and nobody waits
 * (they go first); else the ref joins the waiting set. Mode `cards`: the same for a list, in its
 * order: as many own places as the burst places (and the cap) have room for while nobody waits,
 * the rest join the waiting set. Mode `flush`: every wanted place when the burst places have room
 * for all; else one place of the flush lane when its gap has passed; else none. Returns {places
 * taken, ms until a flush can take a place (0 when nothing joined the waiting set)}.
 */
const TAKE = `
local now, win, perWin, perHour = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local burst, gap = tonumber(ARGV[5]), tonumber(ARGV[6])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ${HOUR_MS})
local inWin = redis.call('ZCOUNT', KEYS[1], now - win, '+inf')
local inHour = redis.call('ZCARD', KEYS[1])
local free = math.min(perWin - inWin, perHour - inHour)
local last = tonumber(redis.call('GET', KEYS[3]) or '0')
local function waitMs()
  local w = last + gap - now
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
local take, joined = 0, false
if ARGV[7] == 'card' then
  if free >= 1 and inWin < burst and redis.call('ZCARD', KEYS[2]) == 0 then
    take = 1
  else
    redis.call('ZADD', KEYS[2], 'NX', now, ARGV[8])
    redis.call('PEXPIRE', KEYS[2], 2 * ${HOUR_MS})
    joined = true
  end
elseif ARGV[7] == 'cards' then
  local refs = {}
  for r in string.gmatch(ARGV[8], '[^,]+') do refs[#refs + 1] = r end
  if redis.call('ZCARD', KEYS[2]) == 0 then
    take = math.max(0, math.min(#refs, free, burst - inWin, tonumber(ARGV[10])))
  end
  if take < #refs then
    for i = take + 1, #refs do redis.call('ZADD', KEYS[2], 'NX', now, refs[i]) end
    redis.call('PEXPIRE', KEYS[2], 2 * ${HOUR_MS})
    joined = true
  end
else
  local want = tonumber(ARGV[8])
  if free >= want and inWin + want <= burst then
    take = want
  elseif free >= 1 and now - last >= gap then
    take = 1
    redis.call('SET', KEYS[3], now, 'PX', ${HOUR_MS})
  end
end
for i = 1, take do redis.call('ZADD', KEYS[1], now, ARGV[9] .. ':' .. i) end
if take > 0 then redis.call('PEXPIRE', KEYS[1], ${HOUR_MS}) end
if ARGV[7] == 'flush' then joined = take == 0 end
if not joined then return {take, 0} end
return {take, waitMs()}
`;

/** Takes places in the advisor's window (see `TAKE`). */
export async function takePlaces(
  deps: Pick<TaskDeps, 'redis' | 'keyPrefix' | 'corpId' | 'tuning'>,
  userid: string,
  mode: 'card' | 'cards' | 'flush',
  arg: string | number,
  cap = 1,
): Promise<{ took: number; waitMs: number }> {
  const k = windowKeys(deps, userid);
  const w = windowOf(deps);
  const [took, waitMs] = (await (deps.redis as Redis).eval(
    TAKE,
    3,
    k.sent,
    k.waiting,
    k.lane,
    Date.now(),
    w.windowMs,
    w.perWindow,
    LEAD_CARDS_PER_HOUR,
    burstPlaces(w),
    w.gapMs,
    mode,
    String(arg),
    new Types.ObjectId().toHexString(),
    cap,
  )) as [number, number];
  return { took, waitMs };
}

/** Joins the waiting set without taking a place (the member's minute is used up by other messages). */
export async function joinWaiting(
  deps: Pick<TaskDeps, 'redis' | 'keyPrefix' | 'corpId' | 'clock'>,
  userid: string,
  ref: string | readonly string[],
): Promise<{ took: number; waitMs: number }> {
  const k = windowKeys(deps, userid);
  const now = Date.now();
  const refs = typeof ref === 'string' ? [ref] : ref;
  await deps.redis
    .multi()
    .zadd(k.waiting, 'NX', ...refs.flatMap((r) => [now, r]))
    .pexpire(k.waiting, 2 * HOUR_MS)
    .exec();
  return { took: 0, waitMs: 60_000 - (deps.clock.nowMs() % 60_000) };
}
