import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../infra/clock.js';
import { testRedis, uniqueName } from '../../testing/env.js';
import { budgetLeft, countSent, PER_HOUR_BUDGET } from './task-notify.js';
import { defaultTaskSettings } from './task-settings.js';

// The advisor's message budget (docs/tasks.md): WeCom drops app messages beyond 30 a minute and
// 1,000 an hour per member silently (docs/wecom.md §5), so the bot counts both windows.
const redis = testRedis();
afterAll(() => redis.disconnect());

describe('advisor message budget', () => {
  it('is the smaller of the minute’s and the hour’s budget, each window starting afresh', async () => {
    const clock = new ManualClock(Date.UTC(2026, 11, 7, 2, 0, 0));
    const deps = { redis, keyPrefix: uniqueName('budget'), corpId: 'wwbudget', clock, settings: defaultTaskSettings };
    expect(await budgetLeft(deps, 'zhangwei')).toBe(defaultTaskSettings.perMinuteBudget);
    await countSent(deps, 'zhangwei', 5);
    expect(await budgetLeft(deps, 'zhangwei')).toBe(defaultTaskSettings.perMinuteBudget - 5);
    expect(await budgetLeft(deps, 'lina')).toBe(defaultTaskSettings.perMinuteBudget);

    // Used up within the hour: a new minute brings nothing.
    await countSent(deps, 'zhangwei', PER_HOUR_BUDGET - 5);
    clock.advance(60_000);
    expect(await budgetLeft(deps, 'zhangwei')).toBe(0);
    // The next clock hour does.
    clock.set(Date.UTC(2026, 11, 7, 3, 0, 0));
    expect(await budgetLeft(deps, 'zhangwei')).toBe(defaultTaskSettings.perMinuteBudget);
  });
});
