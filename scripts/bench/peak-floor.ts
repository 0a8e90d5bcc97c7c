/**
 * The least time WeCom's per-app limits allow for the 10:00 peak of `npm run bench:peak`
 * (docs/scale.md §4, "The 10:00 peak, measured"), whatever the bot's CPU: every follow-up told
 * by its own card (the worst case: no digests), the follow-ups spread evenly over the corps and
 * their advisors as `peak-seed.ts` spreads them. WeCom's limits (docs/wecom.md §5): 30 app
 * messages a minute and 1,000 an hour per member (the excess is dropped), 10,000 calls a minute
 * per corp per API, and a daily quota of 200 recipient-sends per account (member).
 */
import type { PeakSizes } from './peak-seed.js';

export interface WecomLimits {
  perMemberMinute: number;
  perMemberHour: number;
  perCorpApiMinute: number;
  perAccountDay: number;
}

/** WeCom's documented limits, as the sandbox enforces them by default. */
export const WECOM_LIMITS: WecomLimits = {
  perMemberMinute: 30,
  perMemberHour: 1000,
  perCorpApiMinute: 10_000,
  perAccountDay: 200,
};

export interface PeakFloor {
  /** Cards (one `message/send` each) the busiest corp and the busiest advisor receive. */
  cardsPerCorp: number;
  cardsPerAdvisor: number;
  /**
   * Clock minutes the sends need at least (the limits count per clock minute: the first minute's
   * share goes at once, so n minutes of quota end within n − 1 minutes of the first send).
   */
  minutes: number;
  /** Seconds after 10:00 by which WeCom's limits would let the last card go out. */
  floorS: number;
  /** False: the daily quota cannot carry one card per follow-up (the bot must use digests). */
  withinDailyQuota: boolean;
}

/** The WeCom minimum for one card per due follow-up (see the file comment). */
export function peakFloor(sizes: PeakSizes, limits: WecomLimits = WECOM_LIMITS): PeakFloor {
  const cardsPerCorp = Math.ceil(sizes.due / sizes.corps);
  const cardsPerAdvisor = Math.ceil(cardsPerCorp / sizes.advisorsPerCorp);
  const hours = Math.ceil(cardsPerAdvisor / limits.perMemberHour);
  const minutes = Math.max(
    Math.ceil(cardsPerAdvisor / limits.perMemberMinute),
    Math.ceil(cardsPerCorp / limits.perCorpApiMinute),
    // Past 1,000 an hour a member waits for the next clock hour.
    (hours - 1) * 60 + 1,
  );
  return {
    cardsPerCorp,
    cardsPerAdvisor,
    minutes,
    floorS: (minutes - 1) * 60,
    withinDailyQuota: cardsPerCorp <= sizes.advisorsPerCorp * limits.perAccountDay,
  };
}
