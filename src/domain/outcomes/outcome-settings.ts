import { z } from 'zod';
import { CorpModel } from '../corps/corp.model.js';

/**
 * Per-corp outcome settings (docs/outcomes.md): attribution windows in days per outcome kind,
 * how long after an "appointment booked" task an arrival may come before it is a no-show, and
 * after how many months without a repair order an owner is dormant.
 */
export const outcomeSettingsSchema = z
  .object({
    windows: z
      .object({
        /** Repair orders and appointments: maintenance invitations (30 days). */
        service: z.number().int().min(1).max(365).default(30),
        /** Insurance policies: renewal invitations (60 days). */
        insurance: z.number().int().min(1).max(365).default(60),
        /** Vehicle sales: trade-in and referral follow-ups (90 days). */
        sale: z.number().int().min(1).max(365).default(90),
      })
      .strict()
      .default({ service: 30, insurance: 60, sale: 90 }),
    noShowDays: z.number().int().min(1).max(90).default(14),
    dormantMonths: z.number().int().min(1).max(60).default(12),
  })
  .strict();
export type OutcomeSettings = z.infer<typeof outcomeSettingsSchema>;
export const defaultOutcomeSettings: OutcomeSettings = outcomeSettingsSchema.parse({});

/** The corp's settings with defaults filled in (a corp without any uses the defaults). */
export async function loadOutcomeSettings(corpId: string): Promise<OutcomeSettings> {
  const corp = await CorpModel.findOne({ corpId }, { outcomes: 1 }).lean();
  const parsed = outcomeSettingsSchema.safeParse(corp?.outcomes ?? {});
  return parsed.success ? parsed.data : defaultOutcomeSettings;
}

/** Which window an outcome type uses. */
export function windowKindOf(type: string): keyof OutcomeSettings['windows'] {
  return type === 'insurance_policy' ? 'insurance' : type === 'vehicle_sale' ? 'sale' : 'service';
}
