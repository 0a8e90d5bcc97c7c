import type { CorpWorld } from '../world/model.js';
import type { SandboxContext } from './context.js';

/**
 * A strict, test-only mode of WeCom's limit on app messages to one member (docs/wecom.md §5).
 * By default the sandbox behaves like WeCom: the excess is dropped silently and counted
 * (`Limits.deliverToMember`, `GET /__sandbox/limits`). A test that wants the loss to be loud turns
 * this mode on (`configureMemberLimits`, typically with a narrowed real-time window so it bites in
 * seconds): a message beyond it is then refused with 45009 and recorded, before it is counted by
 * the default limit. Off unless configured, so the two never both apply by accident.
 */
export interface MemberLimitConfig {
  perWindow: number;
  windowMs: number;
  perHour: number;
}

export interface MemberLimitRejection {
  atMs: number;
  userid: string;
  msgtype: string;
  taskId?: string;
}

const DEFAULTS: MemberLimitConfig = { perWindow: 30, windowMs: 60_000, perHour: 1000 };
/** Strict mode is on for a sandbox once a test configured it. */
const HOUR_MS = 3_600_000;

const configs = new WeakMap<SandboxContext, MemberLimitConfig>();
/** Sends per member (real-time ms) and refusals, per corp of the world (a world reset starts afresh). */
const sends = new WeakMap<CorpWorld, Map<string, number[]>>();
const refusals = new WeakMap<CorpWorld, MemberLimitRejection[]>();

export function configureMemberLimits(sb: SandboxContext, patch: Partial<MemberLimitConfig>): MemberLimitConfig {
  const next = { ...(configs.get(sb) ?? DEFAULTS), ...patch };
  configs.set(sb, next);
  return next;
}

/** The messages the sandbox refused because a member was over the limit. */
export function memberLimitRejections(corp: CorpWorld): readonly MemberLimitRejection[] {
  return refusals.get(corp) ?? [];
}

/**
 * Counts a message to each of `userids`; when any of them is over the limit nothing is counted and
 * the members over it are returned (the caller answers 45009).
 */
export function admitMessage(
  sb: SandboxContext,
  corp: CorpWorld,
  userids: readonly string[],
  what: { msgtype: string; taskId?: string },
): string[] {
  const config = configs.get(sb);
  if (!config) return [];
  const now = Date.now();
  let perCorp = sends.get(corp);
  if (!perCorp) sends.set(corp, (perCorp = new Map()));
  const over: string[] = [];
  for (const u of userids) {
    const times = (perCorp.get(u) ?? []).filter((t) => now - t < HOUR_MS);
    perCorp.set(u, times);
    const inWindow = times.filter((t) => now - t < config.windowMs).length;
    if (inWindow >= config.perWindow || times.length >= config.perHour) over.push(u);
  }
  if (over.length) {
    let list = refusals.get(corp);
    if (!list) refusals.set(corp, (list = []));
    for (const userid of over) list.push({ atMs: now, userid, ...what });
    return over;
  }
  for (const u of userids) perCorp.get(u)?.push(now);
  return [];
}
