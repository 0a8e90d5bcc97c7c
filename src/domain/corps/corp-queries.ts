import { NotFoundError, ValidationError } from '../../infra/errors.js';
import {
  defaultRetentionSettings,
  retentionSettingsSchema,
  type RetentionSettings,
} from '../customers/retention-settings.js';
import { CorpModel, type CorpDocument } from './corp.model.js';
import { corpIdSchema } from './corp.types.js';

/**
 * Read-only corp queries the admin API, the console and the CLIs share (docs/architecture.md §10:
 * routes and scripts call the feature's queries, never its models).
 */

/** The stored corp (secrets still sealed), or null. */
export async function loadCorpDocument(corpId: string): Promise<CorpDocument | null> {
  return (await CorpModel.findOne({ corpId }).lean()) as CorpDocument | null;
}

export async function corpExists(corpId: string): Promise<boolean> {
  return (await CorpModel.exists({ corpId })) !== null;
}

/** Kind, time zone and switch of one corp, or null when it is unknown. */
export async function corpProfile(
  corpId: string,
): Promise<Pick<CorpDocument, 'kind' | 'timezone' | 'enabled' | 'tasks'> | null> {
  return CorpModel.findOne({ corpId }, { kind: 1, timezone: 1, enabled: 1, tasks: 1 }).lean();
}

/** The corp's time zone, or the default for an unknown corp or one without a zone. */
export async function corpTimeZone(corpId: string, defaultTimezone: string): Promise<string> {
  return (await CorpModel.findOne({ corpId }, { timezone: 1 }).lean())?.timezone ?? defaultTimezone;
}

/** The corp's retention settings (defaults for an unknown corp or unreadable settings). */
export async function corpRetentionSettings(corpId: string): Promise<RetentionSettings> {
  const corp = await CorpModel.findOne({ corpId }, { retention: 1 }).lean();
  return retentionSettingsSchema.safeParse(corp?.retention ?? {}).data ?? defaultRetentionSettings;
}

/** Every dealer corp's id. */
export async function dealerCorpIds(): Promise<string[]> {
  return (await CorpModel.find({ kind: 'dealer' }, { corpId: 1 }).lean()).map((c) => c.corpId);
}

/** Which of `corpIds` exist. */
export async function existingCorpIds(corpIds: readonly string[]): Promise<Set<string>> {
  return new Set((await CorpModel.find({ corpId: { $in: [...corpIds] } }, { corpId: 1 }).lean()).map((c) => c.corpId));
}

/**
 * The dealer corp a request acts on, checked against the corps collection: unknown → 404, the car
 * maker's own corp (no customers) → 422. Returns its time zone for calendar dates.
 */
export async function requireDealerCorp(
  corpId: unknown,
  defaultTimezone: string,
): Promise<{ corpId: string; timeZone: string }> {
  const parsed = corpIdSchema.safeParse(corpId);
  if (!parsed.success)
    throw new ValidationError([{ path: '/corpId', message: 'required: the WeCom corp id of the dealer' }]);
  const corp = await CorpModel.findOne({ corpId: parsed.data }, { kind: 1, timezone: 1, enabled: 1 }).lean();
  if (!corp) throw new NotFoundError(`no corp ${parsed.data}; add it with npm run corp -- add`, 'corp_not_found');
  if (corp.kind === 'oem')
    throw new ValidationError([
      { path: '/corpId', message: "is the car maker's own corp; customers and vehicles belong to dealer corps" },
    ]);
  return { corpId: parsed.data, timeZone: corp.timezone ?? defaultTimezone };
}
