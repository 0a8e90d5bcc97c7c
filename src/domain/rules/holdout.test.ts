import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LookupHasher } from '../../infra/data-crypto.js';
import { holdoutPosition, isHeldOut } from './holdout.js';

describe('holdout assignment', () => {
  const hasher = new LookupHasher(randomBytes(32));
  const customers = Array.from({ length: 20_000 }, (_, i) => i.toString(16).padStart(24, '0'));

  it('is deterministic per customer and rule, and independent between rules', () => {
    expect(holdoutPosition(hasher, 'r1', customers[7] as string)).toBe(
      holdoutPosition(hasher, 'r1', customers[7] as string),
    );
    const a = customers.filter((c) => isHeldOut(hasher, 'r1', c, 0.1));
    const both = a.filter((c) => isHeldOut(hasher, 'r2', c, 0.1)).length;
    expect(both / a.length).toBeGreaterThan(0.06);
    expect(both / a.length).toBeLessThan(0.14);
  });

  it('holds out the share asked for (10 % of 20,000 customers: 9–11 %)', () => {
    const share = customers.filter((c) => isHeldOut(hasher, 'r1', c, 0.1)).length / customers.length;
    expect(share).toBeGreaterThan(0.09);
    expect(share).toBeLessThan(0.11);
    expect(customers.some((c) => isHeldOut(hasher, 'r1', c, undefined))).toBe(false);
  });
});
