import { z } from 'zod';

/** VIN: 17 characters, digits and capitals without I, O, Q (ISO 3779). */
export const VIN_PATTERN = /^[A-HJ-NPR-Z0-9]{17}$/;

const isoDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { error: 'use a date like 2026-03-31' })
  .refine(
    (value) =>
      !Number.isNaN(Date.parse(`${value}T00:00:00Z`)) && new Date(`${value}T00:00:00Z`).toISOString().startsWith(value),
    { error: 'is not a real calendar date' },
  );

const optionalText = (max: number) =>
  z
    .string()
    .trim()
    .max(max, { error: `at most ${max} characters` })
    .optional();

/**
 * One vehicle as the DMS sends it (API body item or CSV row). Dates are calendar dates in the
 * corp's time zone; the customer is found by external_userid, unionid or mobile, in that order.
 */
export const vehicleInputSchema = z
  .object({
    vin: z
      .string()
      .trim()
      .toUpperCase()
      .regex(VIN_PATTERN, { error: 'a VIN has 17 letters and digits (no I, O or Q)' }),
    model: optionalText(60),
    deliveryDate: isoDate.optional(),
    mileageKm: z.coerce
      .number({ error: 'must be a number of kilometres' })
      .int({ error: 'must be whole kilometres' })
      .min(0, { error: 'cannot be negative' })
      .max(2_000_000, { error: 'is not a plausible mileage' })
      .optional(),
    mileageDate: isoDate.optional(),
    lastServiceDate: isoDate.optional(),
    insuranceExpiry: isoDate.optional(),
    salesUserid: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'is not a WeCom userid' })
      .optional(),
    externalUserId: z.string().trim().min(1).max(128).optional(),
    unionid: z.string().trim().min(1).max(128).optional(),
    mobile: z
      .string()
      .trim()
      .regex(/^\+?[\d\s-]{7,20}$/, { error: 'is not a phone number' })
      .optional(),
  })
  .strict();

export type VehicleInput = z.infer<typeof vehicleInputSchema>;

/** The dates rules count from (docs/architecture.md §5): a change emits `customer.anchor_changed`. */
export const VEHICLE_ANCHORS = ['deliveryDate', 'lastServiceDate', 'insuranceExpiry'] as const;
export type VehicleAnchor = (typeof VEHICLE_ANCHORS)[number];
