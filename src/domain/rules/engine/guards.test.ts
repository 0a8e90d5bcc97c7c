import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { dateOccurrences } from '../occurrences.js';
import { effectiveQuietHours, followUpDueAt, monthKey, nextAllowedTime, wecomMonthlyQuota } from './guards.js';

const tz = 'Asia/Shanghai';
const quiet = { start: '21:00', end: '09:00' };

describe('quiet hours', () => {
  it('moves 22:30 local to 09:00 the next day, and 08:00 to 09:00 the same day', () => {
    expect(nextAllowedTime(new Date('2026-05-10T14:30:00Z'), quiet, tz).toISOString()).toBe('2026-05-11T01:00:00.000Z');
    expect(nextAllowedTime(new Date('2026-05-11T00:00:00Z'), quiet, tz).toISOString()).toBe('2026-05-11T01:00:00.000Z');
  });

  it('leaves allowed times alone, and never moves anything when switched off', () => {
    expect(nextAllowedTime(new Date('2026-05-11T06:00:00Z'), quiet, tz).toISOString()).toBe('2026-05-11T06:00:00.000Z');
    expect(nextAllowedTime(new Date('2026-05-10T14:30:00Z'), null, tz).toISOString()).toBe('2026-05-10T14:30:00.000Z');
  });

  it("a rule uses its own quiet hours, or none when it switched them off, and the corp's otherwise", () => {
    const corp = { start: '20:00', end: '10:00' };
    expect(effectiveQuietHours({}, corp)).toEqual(corp);
    expect(effectiveQuietHours({ quietHours: quiet }, corp)).toEqual(quiet);
    expect(effectiveQuietHours({ quietHours: null }, corp)).toBeNull();
    expect(effectiveQuietHours({}, null)).toBeNull();
  });

  it('always lands outside quiet hours and never earlier than asked (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }), (ms) => {
        const moved = nextAllowedTime(new Date(ms), quiet, tz);
        expect(moved.getTime()).toBeGreaterThanOrEqual(ms);
        expect(nextAllowedTime(moved, quiet, tz).getTime()).toBe(moved.getTime());
      }),
    );
  });
});

describe('caps and follow-up times', () => {
  it("counts months in the corp zone and knows WeCom's quota", () => {
    expect(monthKey(new Date('2026-04-30T16:30:00Z'), tz)).toBe('2026-05');
    expect(wecomMonthlyQuota(new Date('2026-02-10T00:00:00Z'), tz)).toBe(28);
  });

  it('puts "3d at 10:00" on that calendar day at 10:00 local', () => {
    expect(
      followUpDueAt(
        { type: 'follow_up', title: 't', dueIn: '3d', at: '10:00', sla: '24h' },
        new Date('2026-05-10T14:30:00Z'),
        tz,
      ).toISOString(),
    ).toBe('2026-05-13T02:00:00.000Z');
  });
});

describe('date occurrences', () => {
  it('plans +150d at 10:00 from the delivery day in the corp zone, once per vehicle', () => {
    const ctx = { vehicles: [{ vin: 'LSVAB2180E2000001', deliveryDate: new Date('2026-04-29T16:00:00Z') }] }; // 2026-04-30 local
    const [occ] = dateOccurrences(
      { type: 'date', field: 'deliveryDate', offset: '+150d at 10:00' },
      ctx,
      tz,
      new Date('2026-05-01T00:00:00Z'),
    );
    expect(occ).toEqual({
      occurrenceId: 'delivery:LSVAB2180E2000001',
      anchor: { field: 'deliveryDate', vin: 'LSVAB2180E2000001', value: '2026-04-30' },
      dueAt: new Date('2026-09-27T02:00:00.000Z'),
    });
  });

  it('repeats birthdays yearly, picking the next one', () => {
    const [occ] = dateOccurrences(
      { type: 'date', field: 'birthday', offset: '+0d at 09:00' },
      { vehicles: [], birthday: '1985-03-02' },
      tz,
      new Date('2026-05-01T00:00:00Z'),
    );
    expect(occ).toMatchObject({ occurrenceId: 'birthday:2027', dueAt: new Date('2027-03-02T01:00:00.000Z') });
  });
});
