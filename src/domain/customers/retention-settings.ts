import { z } from 'zod';

/**
 * How a corp recognises retained customers (保客) and tags them (docs/architecture.md §5). Each path
 * can be switched off per corp by emptying its list.
 */
export const retentionSettingsSchema = z.object({
  /** Channel `state` prefixes of delivery QR codes: adding through one makes an owner. */
  deliveryStatePrefixes: z.array(z.string().min(1).max(30)).default(['delivery']),
  /** Corp tags (by name) that an advisor applies to mark a purchase, e.g. 已购车. */
  ownerTagNames: z.array(z.string().min(1).max(30)).default(['已购车']),
  /** Whether linking a vehicle makes an owner. */
  ownerOnVehicleLink: z.boolean().default(true),
  /** The tag every owner gets on every active relationship. */
  ownerTag: z
    .object({ group: z.string().min(1).max(30), name: z.string().min(1).max(30) })
    .default({ group: '客户分层', name: '保客' }),
  /** Group for a tag named after the vehicle model; null switches model tags off. */
  modelTagGroup: z.string().min(1).max(30).nullable().default('车型'),
});

export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;

export const defaultRetentionSettings: RetentionSettings = retentionSettingsSchema.parse({});

export function isDeliveryChannel(settings: RetentionSettings, state: string | undefined | null): boolean {
  return Boolean(state) && settings.deliveryStatePrefixes.some((prefix) => (state as string).startsWith(prefix));
}
