import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../testing/mongo.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { DEFAULT_ANOMALY_OPTIONS } from '../kpis/anomalies.js';
import { addDays } from '../kpis/kpi-days.js';
import { weeklyAnomalies } from '../kpis/overview.service.js';
import { noShowRateFlags } from './no-show-anomalies.js';
import { plantBookings } from './no-show.test-support.js';

/**
 * Planted bookings and no-shows over 9 weeks (docs/cockpit.md "Result anomalies"): one advisor's
 * no-show rate jumps from 10 % to 45 % in the judged week, four steady advisors vary between 5 and
 * 15 %, one advisor books 2 a week and misses 3 of 4 this week (below the minimum volume).
 * The corp has no settings: Asia/Shanghai, a 14-day no-show window.
 */
const CORP = 'wwnoshowflags';
const WEEK = '2026-03-02';
const HISTORY = Array.from({ length: 8 }, (_, i) => addDays(WEEK, -56 + 7 * i));
/** Every window of the judged week has closed (and been looked at by the daily detection). */
const NOW = new Date('2026-03-27T00:00:00Z');

let drop: () => Promise<void>;
const noShowIds = new Map<string, string[]>();

async function plant(advisor: string, week: string, booked: number, missed: number): Promise<void> {
  const ids = await plantBookings(CORP, advisor, week, booked, missed);
  if (week === WEEK) noShowIds.set(advisor, ids);
}

beforeAll(async () => {
  ({ drop } = await useTestDatabase('no-show-anomalies'));
  await AdvisorModel.insertMany([
    { corpId: CORP, userid: 'jump', name: '王芳' },
    { corpId: CORP, userid: 'small', name: '赵小' },
  ]);
  for (const [i, week] of HISTORY.entries()) {
    await plant('jump', week, 20, 2);
    for (let s = 1; s <= 4; s++) await plant(`steady${s}`, week, 20, 1 + ((i + s) % 3));
    await plant('small', week, 2, 0);
  }
  await plant('jump', WEEK, 20, 9);
  for (let s = 1; s <= 4; s++) await plant(`steady${s}`, WEEK, 20, 3);
  await plant('small', WEEK, 4, 3);
});
afterAll(async () => drop());

const judge = (over: Partial<Parameters<typeof noShowRateFlags>[0]> = {}) =>
  noShowRateFlags({
    corpIds: [CORP],
    period: WEEK,
    history: HISTORY,
    granularity: 'week',
    now: NOW,
    withCustomerIds: false,
    ...over,
  });

describe('no-show rate flags', () => {
  it('flags the advisor whose no-show rate jumped, with the numbers, the words and the no-shows behind it', async () => {
    const flags = await judge();
    expect(flags.map((f) => f.unit.id)).toEqual([`${CORP}:jump`]);
    const [flag] = flags;
    expect(flag).toMatchObject({
      metric: 'no_show_rate',
      unit: { kind: 'advisor', corpId: CORP, label: '王芳' },
      period: WEEK,
      value: 0.45,
      usual: 0.1,
      direction: 'high',
      volume: 20,
    });
    expect(flag!.peers).toBeCloseTo(0.15);
    expect(flag!.ownScore!).toBeGreaterThanOrEqual(DEFAULT_ANOMALY_OPTIONS.threshold);
    expect(flag!.peerScore!).toBeGreaterThanOrEqual(DEFAULT_ANOMALY_OPTIONS.peerThreshold);
    expect(flag!.explanation.en).toBe(
      "王芳's no-show rate 45% vs their usual 10% and the dealer's 15%; 9 of 20 bookings did not arrive",
    );
    expect(flag!.explanation.zh).toBe('王芳的预约未到店率 45%（常态 10%，本店顾问 15%）；20 个预约中 9 个未到店');
    const { drillDown } = flag!;
    expect(drillDown.path).toBe('/tasks');
    // The follow-up tasks are due when the no-shows were found: an hour after the 14-day windows closed.
    expect(drillDown.query).toEqual({ corpId: CORP, advisor: 'jump', from: '2026-03-18', to: '2026-03-18' });
    expect(drillDown.noShows!.map((n) => n.noShowId).sort()).toEqual(noShowIds.get('jump'));
    for (const n of drillDown.noShows!) {
      expect(n.bookedAt).toBe('2026-03-04T02:00:00.000Z');
      expect(n.windowEnd).toBe('2026-03-18T02:00:00.000Z');
      expect(n.detectedAt).toBe('2026-03-18T03:00:00.000Z');
      expect(n.bookingTaskId).toMatch(/^[a-f0-9]{24}$/);
      expect(n.followUpTaskId).toMatch(/^[a-f0-9]{24}$/);
      expect(n).not.toHaveProperty('customerId');
    }
  });

  it('leaves the steady advisors and the one below the minimum volume alone', async () => {
    const flags = await judge({ advisors: ['steady1', 'steady2', 'steady3', 'steady4', 'small'] });
    expect(flags).toEqual([]);
    // The small advisor's 3 of 4 would be flagged without the volume guard.
    const unguarded = await judge({ advisors: ['small'], options: { minVolume: 1 } });
    expect(unguarded.map((f) => f.unit.id)).toEqual([`${CORP}:small`]);
  });

  it('gives customer ids only when asked (roles that may see customers)', async () => {
    const [flag] = await judge({ withCustomerIds: true });
    expect(flag!.drillDown.noShows!.every((n) => /^[a-f0-9]{24}$/.test(n.customerId ?? ''))).toBe(true);
  });

  it('does not judge a week whose windows have not closed yet', async () => {
    expect(await judge({ now: new Date('2026-03-15T00:00:00Z') })).toEqual([]);
  });

  it('is part of the weekly anomalies answer, scoped to the caller’s advisors', async () => {
    const all = await weeklyAnomalies({ corpIds: [CORP], week: WEEK, results: { now: NOW, withCustomerIds: false } });
    expect(all.flags.filter((f) => f.metric === 'no_show_rate').map((f) => f.unit.id)).toEqual([`${CORP}:jump`]);
    const mine = await weeklyAnomalies({
      corpIds: [CORP],
      week: WEEK,
      advisors: ['steady1'],
      results: { now: NOW, withCustomerIds: false },
    });
    expect(mine.flags).toEqual([]);
    const without = await weeklyAnomalies({ corpIds: [CORP], week: WEEK });
    expect(without.flags).toEqual([]);
  });
});
