import type { CorpWorld } from '../world/model.js';
import type { SandboxContext } from './context.js';

/**
 * WeCom's limit on app messages to one member: 30 a minute and 1,000 an hour (docs/wecom.md §5).
 * WeCom drops the excess without an error; the sandbox refuses it with 45009 instead and keeps a
 * record, so a test sees the loss instead of a card that silently never arrived. Real time, like
 * WeCom's windows. Tests may narrow the minute window (`configureMemberLimits`) to provoke it fast.
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
  const config = configs.get(sb) ?? DEFAULTS;
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
