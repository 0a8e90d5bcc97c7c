import { z } from 'zod';
import { VIN_PATTERN } from '../vehicles/vehicle-input.js';

export const OUTCOME_TYPES = ['appointment', 'repair_order', 'insurance_policy', 'vehicle_sale'] as const;
export type OutcomeType = (typeof OUTCOME_TYPES)[number];
/** Repair-order types as dealers' DMSs classify them (docs/outcomes.md). */
export const RO_TYPES = [
  'first_maintenance',
  'maintenance',
  'repair',
  'warranty',
  'accident',
  'tyre',
  'other',
] as const;
export type RoType = (typeof RO_TYPES)[number];
export const OUTCOME_STATUSES = ['active', 'cancelled'] as const;

const calendarDate = /^\d{4}-\d{2}-\d{2}$/;
/** A calendar date (`2026-03-31`, midnight in the corp's zone) or an ISO date-time with offset. */
const when = z
  .string()
  .trim()
  .refine(
    (v) =>
      calendarDate.test(v)
        ? new Date(`${v}T00:00:00Z`).toISOString().startsWith(v)
        : z.iso.datetime({ offset: true }).safeParse(v).success,
    {
      error: 'use a date like 2026-03-31 or a date-time like 2026-03-31T09:30:00+08:00',
    },
  );
const amount = z.coerce
  .number({ error: 'must be an amount in yuan, like 1280.50' })
  .min(0, { error: 'cannot be negative' })
  .max(100_000_000, { error: 'is not a plausible amount' })
  .refine((v) => Math.round(v * 100) === Number((v * 100).toFixed(6)), { error: 'at most two decimals (fen)' });
const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max, { error: `at most ${max} characters` });

/**
 * One outcome as the DMS sends it (API item, webhook item or CSV row; docs/outcomes.md). The
 * DMS's id (`externalId`) and `version` make corrections and cancellations replace the earlier
 * record; the VIN (else the mobile) finds the customer. Type-specific fields are flat so a CSV
 * row and a JSON item are the same thing.
 */
export const outcomeInputSchema = z
  .object({
    source: z
      .string()
      .trim()
      .regex(/^[a-z0-9][a-z0-9_-]{0,31}$/, { error: 'lower-case letters, digits, - and _ (at most 32), like dms' })
      .default('dms'),
    externalId: text(128),
    version: z.coerce
      .number({ error: 'must be a whole number' })
      .int({ error: 'must be a whole number' })
      .min(0, { error: 'cannot be negative' }),
    type: z.enum(OUTCOME_TYPES, { error: `use one of ${OUTCOME_TYPES.join(', ')}` }),
    status: z.enum(OUTCOME_STATUSES, { error: 'use active or cancelled' }).default('active'),
    occurredAt: when,
    vin: z
      .string()
      .trim()
      .toUpperCase()
      .regex(VIN_PATTERN, { error: 'a VIN has 17 letters and digits (no I, O or Q)' })
      .optional(),
    mobile: z
      .string()
      .trim()
      .regex(/^\+?[\d\s-]{7,20}$/, { error: 'is not a phone number' })
      .optional(),
    // repair order (工单)
    roNumber: text(64).optional(),
    roType: z.enum(RO_TYPES, { error: `use one of ${RO_TYPES.join(', ')}` }).optional(),
    closedAt: when.optional(),
    labourAmount: amount.optional(),
    partsAmount: amount.optional(),
    mileageKm: z.coerce
      .number({ error: 'must be a number of kilometres' })
      .int({ error: 'must be whole kilometres' })
      .min(0, { error: 'cannot be negative' })
      .max(2_000_000, { error: 'is not a plausible mileage' })
      .optional(),
    serviceAdvisor: text(64).optional(),
    // insurance policy (续保)
    policyNumber: text(64).optional(),
    insurer: text(64).optional(),
    policyEnd: when.optional(),
    premium: amount.optional(),
    policyKind: z.enum(['renewal', 'new'], { error: 'use renewal or new' }).optional(),
    // vehicle sale
    saleKind: z.enum(['order', 'delivery'], { error: 'use order or delivery' }).optional(),
    model: text(60).optional(),
    saleAmount: amount.optional(),
  })
  .strict()
  .superRefine((o, ctx) => {
    if (!o.vin && !o.mobile)
      ctx.addIssue({
        code: 'custom',
        path: ['vin'],
        message: 'send the VIN (or at least the mobile) so the outcome can be matched to an owner',
      });
    if (o.type === 'repair_order' && !o.roType)
      ctx.addIssue({
        code: 'custom',
        path: ['roType'],
        message: `a repair order needs its type: ${RO_TYPES.join(', ')}`,
      });
    if (o.type === 'insurance_policy' && !o.policyEnd)
      ctx.addIssue({ code: 'custom', path: ['policyEnd'], message: 'an insurance policy needs its end date' });
    if (o.closedAt && Date.parse(toInstantString(o.closedAt)) < Date.parse(toInstantString(o.occurredAt))) {
      ctx.addIssue({
        code: 'custom',
        path: ['closedAt'],
        message: 'is before occurredAt (the repair order was opened then)',
      });
    }
  });

export type OutcomeInput = z.infer<typeof outcomeInputSchema>;

/** A calendar date as UTC midnight text, for ordering checks only (zones do not matter there). */
function toInstantString(v: string): string {
  return calendarDate.test(v) ? `${v}T00:00:00Z` : v;
}

/** Repair-order types that are an arrival for maintenance (they move the service anchor). */
export const MAINTENANCE_RO_TYPES: readonly RoType[] = ['first_maintenance', 'maintenance'];
