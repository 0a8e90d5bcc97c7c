import { z } from 'zod';
import { LEAD_SOURCES } from './lead.model.js';

/** Chinese mobile numbers, with or without +86 and separators. */
const mobile = z
  .string()
  .trim()
  .transform((v) => v.replace(/[\s-]/g, '').replace(/^(\+?86)/, ''))
  .pipe(z.string().regex(/^1[3-9]\d{9}$/, { error: 'is not a mainland mobile number (11 digits starting with 1)' }));

/**
 * One lead as the API, the CSV import and platform pushes send it (docs/acquisition.md "Leads";
 * README "Leads" lists the CSV columns). A lead needs a mobile or the platform's own id.
 */
export const leadInputSchema = z
  .object({
    source: z.enum(LEAD_SOURCES, { error: `source is one of ${LEAD_SOURCES.join(', ')}` }),
    sourceId: z.string().trim().min(1).max(128).optional(),
    name: z.string().trim().min(1).max(60).optional(),
    mobile: mobile.optional(),
    model: z.string().trim().min(1).max(60).optional(),
    budget: z.string().trim().min(1).max(60).optional(),
    preferredTime: z.string().trim().min(1).max(60).optional(),
    consentRef: z.string().trim().min(1).max(128).optional(),
    /** When the person showed interest (ISO date-time); defaults to now. */
    at: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((l) => l.mobile !== undefined || l.sourceId !== undefined, {
    error: "give a mobile or the platform's sourceId",
    path: ['mobile'],
  });

export type LeadInput = z.output<typeof leadInputSchema>;
