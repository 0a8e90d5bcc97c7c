import { z } from 'zod';

/**
 * Why a customer's data is erased, as a code (PIPL Art. 47's cases). Codes, not free text, so the
 * audit tombstone cannot carry personal data; `ticket` refers to the dealer's own request record.
 */
export const ERASURE_REASONS = [
  'customer_request',
  'consent_withdrawn',
  'retention_expired',
  'purpose_achieved',
  'service_ended',
  'unlawful_processing',
] as const;
export type ErasureReason = (typeof ERASURE_REASONS)[number];

export const erasureRequestSchema = z
  .object({
    reason: z.enum(ERASURE_REASONS, { error: `reason: one of ${ERASURE_REASONS.join(', ')}` }),
    /** The dealer's request or ticket number (letters, digits, . _ # -), never names or phones. */
    ticket: z
      .string()
      .regex(/^[A-Za-z0-9._#-]{1,64}$/, {
        error: 'ticket: 1-64 letters, digits, . _ # or - (a reference, not personal data)',
      })
      .optional(),
  })
  .strict();

export type ErasureRequest = z.infer<typeof erasureRequestSchema>;
