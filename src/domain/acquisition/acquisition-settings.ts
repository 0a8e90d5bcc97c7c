import { AcquisitionSettingsModel } from './acquisition-settings.model.js';
import { z } from 'zod';
import type { Queues } from '../../queues/queue-factory.js';
import { corpsChannel } from '../corps/corp.service.js';
import { LEAD_SOURCES } from './lead.model.js';

/** One routing rule: the first rule whose filters match a lead names where it goes (docs/acquisition.md "Routing"). */
export const routingRuleSchema = z
  .object({
    name: z.string().min(1).max(60),
    sources: z.array(z.enum(LEAD_SOURCES)).optional(),
    /** Case-insensitive substrings of the model of interest. */
    models: z.array(z.string().min(1).max(60)).optional(),
    /** `in` working hours, `out` of them, or `any`. */
    hours: z.enum(['in', 'out', 'any']).default('any'),
    /** WeCom department ids whose members share the leads, round-robin, least open leads first. */
    departments: z.array(z.number().int()).default([]),
    /** Or named advisors. */
    advisors: z.array(z.string().min(1)).default([]),
  })
  .strict();

/** A corp's lead and channel settings, defaults filled in. */
export const acquisitionSettingsSchema = z
  .object({
    /** First contact due within this many minutes of working time. */
    slaMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    /** Ladder after the SLA: escalate to the leader, then reassign (minutes after the SLA). */
    escalateAfterMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(15),
    reassignAfterMinutes: z
      .number()
      .int()
      .min(1)
      .max(24 * 60)
      .default(30),
    /** Same mobile within this many days is repeat interest, not a new lead. */
    duplicateWindowDays: z.number().int().min(0).max(365).default(30),
    /** Open leads an advisor may hold before routing skips them (their own record may say otherwise). */
    defaultLeadCap: z.number().int().min(1).max(10_000).default(30),
    /** Outside working hours: hand the lead to an on-duty advisor now (else it waits for the next start). */
    onDutyOutsideHours: z.boolean().default(true),
    rules: z.array(routingRuleSchema).max(100).default([]),
  })
  .strict();

export type AcquisitionSettings = z.infer<typeof acquisitionSettingsSchema>;
export const defaultAcquisitionSettings: AcquisitionSettings = acquisitionSettingsSchema.parse({});

export async function loadAcquisitionSettings(corpId: string): Promise<AcquisitionSettings> {
  const doc = await AcquisitionSettingsModel.findOne({ corpId }).lean();
  return acquisitionSettingsSchema.safeParse(doc?.settings ?? {}).data ?? defaultAcquisitionSettings;
}

/**
 * Settings held per process for intake and routing (docs/acquisition.md "Intake"): read once per
 * corp instead of once per lead. A save forgets them here and announces the corp on the corps
 * change channel, whose subscriber (src/process-boot.ts) forgets them in every other process; the
 * lifetime bounds how long a missed notice can leave a process on old rules.
 */
export const SETTINGS_CACHE_MS = 30_000;
const cached = new Map<string, { at: number; settings: Promise<AcquisitionSettings> }>();

export function cachedAcquisitionSettings(corpId: string, nowMs: number = Date.now()): Promise<AcquisitionSettings> {
  const hit = cached.get(corpId);
  if (hit && nowMs - hit.at < SETTINGS_CACHE_MS) return hit.settings;
  const settings = loadAcquisitionSettings(corpId);
  cached.set(corpId, { at: nowMs, settings });
  // A failed read is not kept: the next lead asks MongoDB again.
  settings.catch(() => {
    if (cached.get(corpId)?.settings === settings) cached.delete(corpId);
  });
  return settings;
}

/** Forgets a corp's cached settings (a save here, or a change notice from another process). */
export function forgetAcquisitionSettings(corpId?: string): void {
  if (corpId === undefined) cached.clear();
  else cached.delete(corpId);
}

/** Stores a corp's settings; with `queues` the change is announced to every process. */
export async function saveAcquisitionSettings(
  corpId: string,
  settings: AcquisitionSettings,
  queues?: Pick<Queues, 'redis' | 'prefix'>,
): Promise<void> {
  await AcquisitionSettingsModel.updateOne({ corpId }, { $set: { settings } }, { upsert: true });
  forgetAcquisitionSettings(corpId);
  await queues?.redis.publish(corpsChannel(queues.prefix), corpId).catch(() => undefined);
}
