import { z } from 'zod';

/**
 * A corp's personal-data settings (PIPL; docs/data-inventory.md): the privacy notice its welcome message
 * links to (Art. 14 and 17: the person is told who handles what, why and for how long) and how long
 * a customer's data is kept after their last relationship with the dealer ended (Art. 19 and 47).
 */
export const privacySettingsSchema = z.object({
  notice: z
    .object({
      /** Whether the welcome message carries the notice line. */
      enabled: z.boolean().default(false),
      /** Where the dealer publishes its notice (https). */
      url: z
        .url({ protocol: /^https?$/, error: 'must be an http(s) URL of the privacy notice' })
        .max(500)
        .optional(),
      /** The notice's version as the dealer names it (`2026-05`, `v3` ...); recorded per customer when sent. */
      version: z
        .string()
        .regex(/^[A-Za-z0-9._-]{1,32}$/, { error: 'version: 1-32 letters, digits, . _ or -' })
        .default('1'),
      /** The line before the link in the welcome text. */
      label: z.string().min(1).max(60).default('个人信息保护说明'),
    })
    .default({ enabled: false, version: '1', label: '个人信息保护说明' })
    .refine((n) => !n.enabled || Boolean(n.url), {
      error: 'notice.url is required when the notice is enabled',
      path: ['url'],
    }),
  /** Days a customer's data is kept after their last relationship ended; then it is erased. */
  retentionDays: z.number().int().min(1).max(3650).default(180),
});

export type PrivacySettings = z.infer<typeof privacySettingsSchema>;

export const defaultPrivacySettings: PrivacySettings = privacySettingsSchema.parse({});

/** The welcome text line that carries the notice, or undefined when the corp does not send one. */
export function noticeLine(settings: PrivacySettings): string | undefined {
  const { notice } = settings;
  if (!notice.enabled || !notice.url) return undefined;
  return `${notice.label}（${notice.version}）：${notice.url}`;
}
