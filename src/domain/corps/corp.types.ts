import { z } from 'zod';
import { consoleRolesSchema, type ConsoleRoles } from '../auth/console-roles.js';
import { retentionSettingsSchema, type RetentionSettings } from '../customers/retention-settings.js';
import { privacySettingsSchema, type PrivacySettings } from '../privacy/privacy-settings.js';
import { taskSettingsSchema, type TaskSettings } from '../tasks/task-settings.js';

/** Callback credentials of one WeCom receiver (docs/wecom.md §1.1): Token and EncodingAESKey. */
export interface CallbackCredentials {
  readonly token: string;
  readonly encodingAesKey: string;
}

/** A corp as the running processes see it: secrets decrypted, held in memory only. */
export interface Corp {
  readonly corpId: string;
  readonly kind: 'dealer' | 'oem';
  readonly displayName: string;
  readonly agentId: number;
  readonly secret: string;
  readonly callback: CallbackCredentials;
  /** The contact-sync assistant's own receiver (docs/architecture.md §3), when configured. */
  readonly contactSync: CallbackCredentials | undefined;
  readonly timezone: string;
  readonly enabled: boolean;
  /** Retained-customer recognition and tagging; defaults when the corp sets none. */
  readonly retention: RetentionSettings;
  /** Follow-up tasks: working hours and escalation defaults (docs/tasks.md); defaults when absent. */
  readonly tasks?: TaskSettings;
  /** Privacy notice and data retention (docs/data-inventory.md); defaults (defaultPrivacySettings) when absent. */
  readonly privacy?: PrivacySettings;
  /** Console roles by userid (docs/console.md); defaultConsoleRoles when absent. */
  readonly consoleRoles?: ConsoleRoles;
}

/** A corp without secrets: what CLIs and APIs may show. */
export interface CorpSummary {
  corpId: string;
  kind: 'dealer' | 'oem';
  displayName: string;
  agentId: number;
  timezone: string;
  enabled: boolean;
  hasContactSync: boolean;
}

const token = z.string().regex(/^[A-Za-z0-9]{1,32}$/, {
  error: 'Token must be 1-32 letters or digits (WeCom admin console → app → API receive)',
});
const aesKey = z.string().regex(/^[A-Za-z0-9]{43}$/, { error: 'EncodingAESKey must be exactly 43 letters or digits' });
const timeZone = z.string().refine(
  (value) => {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: value });
      return true;
    } catch {
      return false;
    }
  },
  { error: 'must be an IANA time zone such as Asia/Shanghai' },
);

/** The corp id is a URL path segment, a metric label and part of job ids: keep it plain. */
export const corpIdSchema = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'corp id must be 1-64 letters, digits, _ or -' });

/** What an operator gives to add a corp (CLI, CORPS_FILE). */
export const corpInputSchema = z
  .object({
    corpId: corpIdSchema,
    kind: z.enum(['dealer', 'oem']).default('dealer'),
    displayName: z.string().min(1).max(100),
    agentId: z.coerce.number().int().positive(),
    secret: z.string().min(1).max(128),
    callbackToken: token,
    callbackAesKey: aesKey,
    contactSyncToken: token.optional(),
    contactSyncAesKey: aesKey.optional(),
    timezone: timeZone.optional(),
    enabled: z.boolean().default(true),
    retention: retentionSettingsSchema.optional(),
    tasks: taskSettingsSchema.optional(),
    privacy: privacySettingsSchema.optional(),
    consoleRoles: consoleRolesSchema.optional(),
  })
  .refine((c) => (c.contactSyncToken === undefined) === (c.contactSyncAesKey === undefined), {
    error: 'contactSyncToken and contactSyncAesKey go together',
    path: ['contactSyncToken'],
  });

export type CorpInput = z.input<typeof corpInputSchema>;
export type ParsedCorpInput = z.output<typeof corpInputSchema>;

/** A partial change (`npm run corp -- update`). */
export const corpPatchSchema = z.object({
  kind: z.enum(['dealer', 'oem']).optional(),
  displayName: z.string().min(1).max(100).optional(),
  agentId: z.coerce.number().int().positive().optional(),
  secret: z.string().min(1).max(128).optional(),
  callbackToken: token.optional(),
  callbackAesKey: aesKey.optional(),
  contactSyncToken: token.optional(),
  contactSyncAesKey: aesKey.optional(),
  timezone: timeZone.optional(),
  enabled: z.boolean().optional(),
  retention: retentionSettingsSchema.optional(),
  tasks: taskSettingsSchema.optional(),
  privacy: privacySettingsSchema.optional(),
  consoleRoles: consoleRolesSchema.optional(),
});

export type CorpPatch = z.input<typeof corpPatchSchema>;
