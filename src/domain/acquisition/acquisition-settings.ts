import { AcquisitionSettingsModel } from './acquisition-settings.model.js';
import { z } from 'zod';
import { changeNotices, type ChangeNotices } from '../../infra/change-notices.js';
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
 * Settings held per process for intake and routing (docs/acquisition.md "Leads"): read once per
 * corp instead of once per lead. Every write of the settings announces itself on the change notices
 * (acquisition-settings.model.ts, src/infra/change-notices.ts), which clear the copy here at once
 * and in every other process through Redis; `ttlMs` (default 30 s) only bounds how long a lost
 * notice (a subscriber connection away, a write from a process not attached) can leave a process
 * on old rules. Concurrent misses share one read; a failed read is not kept.
 */
export class AcquisitionSettingsCache {
  private readonly held = new Map<string, { loadedAt: number; settings: Promise<AcquisitionSettings> }>();
  private readonly detach: () => void;

  constructor(private readonly opts: { ttlMs?: number; monotonicMs?: () => number; notices?: ChangeNotices } = {}) {
    this.detach = (opts.notices ?? changeNotices).on('lead-settings', () => this.held.clear());
  }

  get(corpId: string): Promise<AcquisitionSettings> {
    const now = (this.opts.monotonicMs ?? performance.now.bind(performance))();
    const hit = this.held.get(corpId);
    if (hit && now - hit.loadedAt < (this.opts.ttlMs ?? SETTINGS_CACHE_MS)) return hit.settings;
    const entry = { loadedAt: now, settings: loadAcquisitionSettings(corpId) };
    this.held.set(corpId, entry);
    entry.settings.catch(() => {
      if (this.held.get(corpId) === entry) this.held.delete(corpId);
    });
    return entry.settings;
  }

  close(): void {
    this.detach();
    this.held.clear();
  }
}

/** The last resort when a change notice is lost (see `AcquisitionSettingsCache`). */
export const SETTINGS_CACHE_MS = 30_000;

/** The process's copy, cleared by the process's change notices. */
export const acquisitionSettingsCache = new AcquisitionSettingsCache();

/** A corp's settings from this process's copy (intake, docs/acquisition.md "Leads"). */
export function cachedAcquisitionSettings(corpId: string): Promise<AcquisitionSettings> {
  return acquisitionSettingsCache.get(corpId);
}

/**
 * Stores a corp's settings. The write announces itself (acquisition-settings.model.ts): this
 * process's copy is cleared at once, the other processes' when the notice reaches them.
 */
export async function saveAcquisitionSettings(corpId: string, settings: AcquisitionSettings): Promise<void> {
  await AcquisitionSettingsModel.updateOne({ corpId }, { $set: { settings } }, { upsert: true });
}
