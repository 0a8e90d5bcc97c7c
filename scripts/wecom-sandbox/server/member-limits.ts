import type { CorpWorld } from '../world/model.js';
import type { MemberLimitConfig } from './limits.js';
import type { SandboxContext } from './context.js';

/**
 * A strict, test-only mode of WeCom's limit on app messages to one member (docs/wecom.md §5).
 * By default the sandbox behaves like WeCom: the excess is dropped silently and counted
 * (`Limits.deliverToMember`, `GET /__sandbox/limits`). A test that wants the loss to be loud turns
 * this mode on with the limits' `strictMemberLimits` (`POST /__sandbox/limits`, or
 * `configureMemberLimits` in-process), typically with a narrowed real-time window so it bites in
 * seconds: a message beyond it is then refused with 45009 and recorded, before it is counted by
 * the default limit. Off unless configured (a reset turns it off), so the two never both apply by
 * accident.
 */
export interface MemberLimitRejection {
  atMs: number;
  userid: string;
  msgtype: string;
  taskId?: string;
}

const HOUR_MS = 3_600_000;

/** Sends per member (real-time ms) and refusals, per corp of the world (a world reset starts afresh). */
const sends = new WeakMap<CorpWorld, Map<string, number[]>>();
const refusals = new WeakMap<CorpWorld, MemberLimitRejection[]>();

/** Turns the strict mode on in-process (as `POST /__sandbox/limits` with `strictMemberLimits`). */
export function configureMemberLimits(sb: SandboxContext, patch: Partial<MemberLimitConfig>): MemberLimitConfig {
  const { strictMemberLimits } = sb.limits.apply({ strictMemberLimits: patch });
  if (!strictMemberLimits) throw new Error('strict member limits did not switch on');
  return strictMemberLimits;
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
  const config = sb.limits.config.strictMemberLimits;
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
