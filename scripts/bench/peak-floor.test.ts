import { describe, expect, it } from 'vitest';
import { peakFloor, WECOM_LIMITS } from './peak-floor.js';
import { peakSizes } from './peak-seed.js';

// The WeCom minimum `npm run bench:peak` prints beside its lateness (docs/scale.md §4).
describe('bench:peak WeCom floor', () => {
  it('lets the full size send one card per follow-up within the first clock minute', () => {
    expect(peakFloor(peakSizes(1))).toEqual({
      cardsPerCorp: 500,
      cardsPerAdvisor: 20,
      minutes: 1,
      floorS: 0,
      withinDailyQuota: true,
    });
  });

  it('counts the per-member minute, per-member hour and per-corp windows, and the daily quota', () => {
    const sizes = { corps: 1, advisorsPerCorp: 2, customers: 10_000, due: 3_000 };
    // 1,500 per advisor: 50 minutes at 30 a minute, but past 1,000 an hour the next clock hour.
    expect(peakFloor(sizes)).toMatchObject({ cardsPerAdvisor: 1_500, minutes: 61, floorS: 3_600 });
    expect(peakFloor(sizes).withinDailyQuota).toBe(false);
    expect(peakFloor({ ...sizes, advisorsPerCorp: 1_000, due: 30_000 }, WECOM_LIMITS)).toMatchObject({
      cardsPerAdvisor: 30,
      minutes: 3,
      floorS: 120,
      withinDailyQuota: true,
    });
  });
});
