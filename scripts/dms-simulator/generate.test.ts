import { describe, expect, it } from 'vitest';
import { simulateOutcomes, type SimOwner } from './generate.js';

const from = new Date('2026-01-01T00:00:00Z');
const owners = (n: number, invited: boolean): SimOwner[] =>
  Array.from({ length: n }, (_, i) => ({
    vin: `LSIM${String(i).padStart(13, '0')}`,
    deliveryDate: new Date('2025-06-01T00:00:00Z'),
    ...(invited ? { invitedAt: new Date('2026-03-01T00:00:00Z') } : {}),
  }));
const arrivedIn = (outs: ReturnType<typeof simulateOutcomes>) =>
  new Set(
    outs
      .filter((o) => o.type === 'repair_order' && o.occurredAt >= '2026-03-01' && o.occurredAt <= '2026-03-31')
      .map((o) => o.vin),
  ).size;

describe('DMS simulator', () => {
  it('is deterministic per seed (seed 7)', () => {
    const opts = { seed: 7, from, days: 120, invitationUplift: 0.2, baseMonthlyArrival: 0.1 };
    expect(simulateOutcomes(owners(50, true), opts)).toEqual(simulateOutcomes(owners(50, true), opts));
  });

  it('plants the invitation effect: invited owners return more within 30 days (2,000 owners per group, seed 11)', () => {
    const opts = { seed: 11, from, days: 120, invitationUplift: 0.2, baseMonthlyArrival: 0.1 };
    const invited = arrivedIn(simulateOutcomes(owners(2000, true), opts)) / 2000;
    const control = arrivedIn(simulateOutcomes(owners(2000, false), opts)) / 2000;
    expect(invited - control).toBeGreaterThan(0.1);
    expect(invited - control).toBeLessThan(0.3);
  });
});
