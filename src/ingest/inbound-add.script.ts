/**
 * The Lua behind DedupJobWriter: de-duplicates and adds the jobs of one batch, for one or more
 * queues, in one atomic script (docs/architecture.md §3 step 7, "SET dedup NX + add in one round trip"). The
 * callback path writes an add event's `wecom-inbound` job and its `wecom-welcome` job in the same
 * call: one EVALSHA per batch (at most 32 jobs, DedupJobBatcher) instead of one per queue.
 *
 * Why not `queue.add`/`addBulk`: BullMQ's generic addStandardJob script and its JS job builder
 * cost about as much CPU per job as the whole rest of the callback endpoint (ingest bench
 * profile: ~85 µs Redis + ~80 µs Node per job on the 2-core bench machine). This script writes
 * what BullMQ 6.7.0's `addStandardJob` writes for a standard job with a custom id and
 * throttle-mode `deduplication` (no delay, priority, parent or repeat), keeping its order of
 * checks, so BullMQ workers, getters and the de-duplication mark's life cycle treat the job like
 * any other (dedup-job-writer.test.ts compares both key for key):
 *   1. job key exists            → "duplicated" event, not added (BullMQ handleDuplicatedJob)
 *   2. SET de:<id> <id> PX ttl NX fails → "deduplicated" event, not added (deduplicateJobWithoutReplace)
 *   3. HSET job hash (name, data, opts, timestamp, delay, priority, deid), LPUSH wait; the marker
 *      is set unless the queue is paused or maxed.
 * A queue section with TTL 0 writes jobs without a de-duplication mark (step 2 and `deid` left
 * out), as `add(name, data, { jobId })` does: the job id alone de-duplicates while the job exists.
 * Two deliberate differences: the auto-id counter (`:id`) is not incremented (it only numbers
 * jobs without a custom id), and a new job is not announced on the queue's event stream (BullMQ's
 * "added" and "waiting" entries). Nothing in the bot reads that stream (no QueueEvents; metrics
 * and the dashboard read the lists), and the two XADDs were about a third of the script's Redis
 * CPU per callback (measured in isolation: ~52–63 µs per add event with them, ~40 without). An
 * operator's own QueueEvents listener still sees everything workers do with these jobs (active,
 * completed, failed ...), and the rare duplicate paths still write their events.
 *
 * KEYS: per queue, 5 keys: meta, wait, active, events, marker.
 * ARGV: 1 timestamp (ms); then per queue, in KEYS order: job key prefix (`<prefix>:<queue>:`),
 * de-duplication key prefix (`<prefix>:<queue>:de:`), job name, de-duplication TTL (ms; 0: no
 * mark), job count n, then n × (id, data JSON, opts JSON).
 * Returns one integer per job, in ARGV order: 1 added, 0 already known (no new job).
 *
 * Tied to one BullMQ version: at start the web process compares the installed version with
 * SCRIPT_VERIFIED_BULLMQ_VERSION and writes with BullMQ's own addBulk when they differ
 * (job-writer.ts). Upgrading BullMQ means re-running dedup-job-writer.test.ts (key for key against
 * BullMQ's add), adapting the script to what the new version writes, and then this constant.
 */
export const SCRIPT_VERIFIED_BULLMQ_VERSION = '6.7.0';

/** The script; see above. */
export const ADD_DEDUP_JOBS_LUA = `
local rcall = redis.call
local timestamp = ARGV[1]
local results = {}
local a = 2

for q = 0, #KEYS / 5 - 1 do
  local metaKey, waitKey, activeKey, eventsKey, markerKey = KEYS[q * 5 + 1], KEYS[q * 5 + 2], KEYS[q * 5 + 3], KEYS[q * 5 + 4], KEYS[q * 5 + 5]
  local jobPrefix, dedupPrefix, name, ttl = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 3]
  local first = a + 5
  local last = first + tonumber(ARGV[a + 4]) * 3 - 1
  a = last + 1

  local maxEvents = rcall("HGET", metaKey, "opts.maxLenEvents")
  if not maxEvents then
    maxEvents = 10000
    rcall("HSET", metaKey, "opts.maxLenEvents", maxEvents)
  end

  local added = 0
  for i = first, last, 3 do
    local jobId, data, opts = ARGV[i], ARGV[i + 1], ARGV[i + 2]
    local jobKey = jobPrefix .. jobId
    local dedupKey = dedupPrefix .. jobId
    if rcall("EXISTS", jobKey) == 1 then
      rcall("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "duplicated", "jobId", jobId)
      results[#results + 1] = 0
    elseif ttl ~= "0" and not rcall("SET", dedupKey, jobId, "PX", ttl, "NX") then
      local current = rcall("GET", dedupKey)
      rcall("XADD", eventsKey, "MAXLEN", "~", maxEvents, "*", "event", "deduplicated", "jobId", current,
        "deduplicationId", jobId, "deduplicatedJobId", jobId)
      results[#results + 1] = 0
    else
      if ttl == "0" then
        rcall("HMSET", jobKey, "name", name, "data", data, "opts", opts, "timestamp", timestamp, "delay", 0, "priority", 0)
      else
        rcall("HMSET", jobKey, "name", name, "data", data, "opts", opts, "timestamp", timestamp,
          "delay", 0, "priority", 0, "deid", jobId)
      end
      rcall("LPUSH", waitKey, jobId)
      added = added + 1
      results[#results + 1] = 1
    end
  end

  if added > 0 then
    local state = rcall("HMGET", metaKey, "paused", "concurrency")
    local pausedOrMaxed = state[1] and true or false
    if not pausedOrMaxed and state[2] then
      pausedOrMaxed = rcall("LLEN", activeKey) >= tonumber(state[2])
    end
    if not pausedOrMaxed then
      rcall("ZADD", markerKey, 0, "0")
    end
  end
end
return results
`;
