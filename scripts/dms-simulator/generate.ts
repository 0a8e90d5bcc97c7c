/**
 * The DMS simulator's stream (docs/outcomes.md, "Simulator"): for a dealer's owners over a period,
 * seasonal arrivals (more before Spring Festival and in summer), maintenance every ~5,000–10,000 km
 * driven by each owner's daily mileage, repairs, insurance renewals a few days before expiry, and a
 * planted response to invitations: an invited owner comes back with `invitationUplift` more
 * probability within 30 days. Deterministic for a seed.
 */
export interface SimOwner {
  vin: string;
  deliveryDate: Date;
  insuranceExpiry?: Date;
  invitedAt?: Date;
}
export interface SimOptions {
  seed: number;
  from: Date;
  days: number;
  invitationUplift: number;
  baseMonthlyArrival: number;
}
export interface SimOutcome {
  externalId: string;
  version: number;
  type: 'repair_order' | 'insurance_policy';
  occurredAt: string;
  vin: string;
  roType?: string;
  labourAmount?: number;
  partsAmount?: number;
  mileageKm?: number;
  policyEnd?: string;
  premium?: number;
  policyKind?: 'renewal';
}

export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;
/** Month factor: busier in January (before Spring Festival) and July–August. */
const SEASON = [1.4, 0.7, 0.9, 1, 1, 1, 1.2, 1.2, 1, 1.1, 0.9, 1];
const day = (d: Date) => d.toISOString().slice(0, 10);

export function simulateOutcomes(owners: readonly SimOwner[], opts: SimOptions): SimOutcome[] {
  const r = seededRandom(opts.seed);
  const out: SimOutcome[] = [];
  for (const [i, o] of owners.entries()) {
    const kmPerDay = 20 + r() * 60;
    let lastServiceKm = 0;
    for (let d = 0; d < opts.days; d++) {
      const at = new Date(opts.from.getTime() + d * DAY);
      const km = Math.round(((at.getTime() - o.deliveryDate.getTime()) / DAY) * kmPerDay);
      const invited = o.invitedAt && at >= o.invitedAt && at.getTime() - o.invitedAt.getTime() <= 30 * DAY;
      const dailyP =
        (opts.baseMonthlyArrival / 30) * (SEASON[at.getUTCMonth()] ?? 1) * (km - lastServiceKm > 5000 ? 2 : 1) +
        (invited ? opts.invitationUplift / 30 : 0);
      if (km > 0 && r() < dailyP) {
        const first = lastServiceKm === 0 && km < 7500;
        const roType = first ? 'first_maintenance' : r() < 0.7 ? 'maintenance' : r() < 0.8 ? 'repair' : 'tyre';
        out.push({
          externalId: `SIM-RO-${i}-${d}`,
          version: 1,
          type: 'repair_order',
          occurredAt: day(at),
          vin: o.vin,
          roType,
          labourAmount: Math.round(200 + r() * 400),
          partsAmount: Math.round(r() * 900),
          mileageKm: km,
        });
        if (roType !== 'repair' && roType !== 'tyre') lastServiceKm = km;
      }
      if (o.insuranceExpiry && day(at) === day(new Date(o.insuranceExpiry.getTime() - 5 * DAY)) && r() < 0.7) {
        out.push({
          externalId: `SIM-POL-${i}-${d}`,
          version: 1,
          type: 'insurance_policy',
          occurredAt: day(at),
          vin: o.vin,
          policyEnd: day(new Date(o.insuranceExpiry.getTime() + 365 * DAY)),
          premium: Math.round(3000 + r() * 4000),
          policyKind: 'renewal',
        });
      }
    }
  }
  return out;
}
