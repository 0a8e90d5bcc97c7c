import type { Redis } from 'ioredis';
import type { Queues } from '../../queues/queue-factory.js';
import { LeadModel, OPEN_LEAD_STAGES } from './lead.model.js';

/**
 * Open leads per advisor, kept in Redis for routing at speed (docs/acquisition.md "Routing").
 * MongoDB stays the truth: the counters are incremented by the pick itself (a Lua script, so two
 * workers never both fill the last place under a cap), decremented when a lead closes or moves
 * away, and rebuilt from MongoDB when their marker is missing (first use, a Redis without the
 * keys) or older than `REBUILD_AFTER_SECONDS`, so a missed decrement cannot drift forever.
 */
export const REBUILD_AFTER_SECONDS = 15 * 60;

/** An advisor the routing may give a lead to now, with their cap (open leads are counted in Redis). */
export interface Available {
  userid: string;
  cap: number;
}

/** One hash tag per corp, so the scripts touch all of a corp's keys in one cluster slot. */
function keysOf(queues: Queues, corpId: string) {
  const tag = `${queues.prefix}:{leads:${corpId}}`;
  return { open: `${tag}:open`, turn: `${tag}:turn`, seq: `${tag}:seq`, built: `${tag}:built` };
}

/**
 * Picks up to ARGV[1] advisors, one per lead, from (userid, cap) pairs: fewest open leads under
 * the cap first, then whoever had their turn longest ago (round-robin), then userid; each pick
 * increments that advisor's count and takes a fresh turn number, so the next pick sees it.
 */
const PICK = `
local n = tonumber(ARGV[1])
local ids, caps, open, turn = {}, {}, {}, {}
local c = (#ARGV - 1) / 2
for i = 1, c do
  ids[i] = ARGV[2 * i]
  caps[i] = tonumber(ARGV[2 * i + 1])
  open[i] = tonumber(redis.call('HGET', KEYS[1], ids[i]) or '0')
  turn[i] = tonumber(redis.call('HGET', KEYS[2], ids[i]) or '0')
end
local out = {}
for k = 1, n do
  local best = nil
  for i = 1, c do
    if open[i] < caps[i] and (best == nil or open[i] < open[best]
        or (open[i] == open[best] and (turn[i] < turn[best] or (turn[i] == turn[best] and ids[i] < ids[best])))) then
      best = i
    end
  end
  if best == nil then break end
  open[best] = open[best] + 1
  turn[best] = redis.call('INCR', KEYS[3])
  redis.call('HINCRBY', KEYS[1], ids[best], 1)
  redis.call('HSET', KEYS[2], ids[best], turn[best])
  out[#out + 1] = ids[best]
end
return out
`;

/** Adds ARGV[2] (may be negative) to ARGV[1]'s count, never below zero. */
const ADD = `
local v = redis.call('HINCRBY', KEYS[1], ARGV[1], tonumber(ARGV[2]))
if v < 0 then redis.call('HSET', KEYS[1], ARGV[1], 0) return 0 end
return v
`;

/**
 * Replaces the counts with MongoDB's, keeping what changed in Redis while MongoDB was read:
 * ARGV = seconds the marker lives, then (userid, MongoDB count, count read before) triples; the
 * new count is MongoDB's plus (now − before). Returns the drift found (Σ |MongoDB − before|).
 */
const REBUILD = `
local drift = 0
for i = 2, #ARGV, 3 do
  local u, m, before = ARGV[i], tonumber(ARGV[i + 1]), tonumber(ARGV[i + 2])
  local now = tonumber(redis.call('HGET', KEYS[1], u) or '0')
  local v = m + (now - before)
  if v < 0 then v = 0 end
  redis.call('HSET', KEYS[1], u, v)
  drift = drift + math.abs(m - before)
end
redis.call('SET', KEYS[2], '1', 'EX', tonumber(ARGV[1]))
return drift
`;

const redisOf = (queues: Queues): Redis => queues.redis;

/** Rebuilds a corp's counters from MongoDB (open leads by advisor); returns the drift it corrected. */
export async function rebuildLeadCounters(queues: Queues, corpId: string): Promise<number> {
  const k = keysOf(queues, corpId);
  const before = await redisOf(queues).hgetall(k.open);
  const rows = await LeadModel.aggregate<{ _id: string; n: number }>([
    { $match: { corpId, stage: { $in: [...OPEN_LEAD_STAGES] }, advisorUserid: { $exists: true } } },
    { $group: { _id: '$advisorUserid', n: { $sum: 1 } } },
  ]);
  const mongo = new Map(rows.map((r) => [r._id, r.n]));
  const users = new Set([...Object.keys(before), ...mongo.keys()]);
  const args = [...users].flatMap((u) => [u, String(mongo.get(u) ?? 0), before[u] ?? '0']);
  return Number(await redisOf(queues).eval(REBUILD, 2, k.open, k.built, REBUILD_AFTER_SECONDS, ...args));
}

/** Rebuilds once per process at a time when the marker is gone (first use, expired, Redis lost). */
const rebuilding = new Map<string, Promise<number>>();
export async function ensureLeadCounters(queues: Queues, corpId: string): Promise<void> {
  const k = keysOf(queues, corpId);
  if ((await redisOf(queues).exists(k.built)) === 1) return;
  const key = k.built;
  let running = rebuilding.get(key);
  if (!running) {
    running = rebuildLeadCounters(queues, corpId).finally(() => rebuilding.delete(key));
    rebuilding.set(key, running);
  }
  await running;
}

/** Atomically picks one advisor per lead among `available` (under their caps); fewer when caps run out. */
export async function pickAdvisors(
  queues: Queues,
  corpId: string,
  available: readonly Available[],
  leads: number,
): Promise<string[]> {
  if (available.length === 0 || leads === 0) return [];
  await ensureLeadCounters(queues, corpId);
  const k = keysOf(queues, corpId);
  const args = available.flatMap((a) => [a.userid, String(a.cap)]);
  return (await redisOf(queues).eval(PICK, 3, k.open, k.turn, k.seq, leads, ...args)) as string[];
}

/** A lead left (`-1`: closed, moved away, its creation failed) or joined (`+1`: a manager's hand-over) an advisor. */
export async function adjustLeadCount(queues: Queues, corpId: string, userid: string, by: 1 | -1): Promise<void> {
  await redisOf(queues).eval(ADD, 1, keysOf(queues, corpId).open, userid, by);
}

/** The counters as they stand (tests, the benchmark). */
export async function leadCounts(queues: Queues, corpId: string): Promise<Map<string, number>> {
  const all = await redisOf(queues).hgetall(keysOf(queues, corpId).open);
  return new Map(Object.entries(all).map(([u, n]) => [u, Number(n)]));
}
