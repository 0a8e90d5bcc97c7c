import type { Redis } from 'ioredis';
import type { DataCipher } from '../../infra/data-crypto.js';
import { consoleRolesSchema, defaultConsoleRoles } from '../auth/console-roles.js';
import { defaultRetentionSettings, retentionSettingsSchema } from '../customers/retention-settings.js';
import { corpSecretContext } from '../privacy/key-rotation.service.js';
import { defaultPrivacySettings, privacySettingsSchema } from '../privacy/privacy-settings.js';
import { defaultTaskSettings, parseStoredTaskSettings } from '../tasks/task-settings.js';
import { CorpModel, type CorpDocument } from './corp.model.js';
import {
  corpInputSchema,
  corpPatchSchema,
  type Corp,
  type CorpInput,
  type CorpPatch,
  type CorpSummary,
} from './corp.types.js';

/** Redis channel on which corp changes are announced so every process reloads at once. */
export const corpsChannel = (prefix: string): string => `${prefix}:corps:changed`;

export interface CorpServiceDeps {
  cipher: DataCipher;
  defaultTimezone: string;
  /** Used to announce changes; a failure to publish is not fatal (the periodic refresh catches up). */
  redis?: Redis;
  prefix: string;
}

/**
 * Corp management on MongoDB: secrets are sealed on the way in and opened only by
 * `loadAll()` (for the in-memory cache). Summaries never carry secrets.
 */
export class CorpService {
  constructor(private readonly deps: CorpServiceDeps) {}

  /** Adds or replaces a corp (idempotent). Returns whether anything changed. */
  async upsert(input: CorpInput): Promise<{ corpId: string; created: boolean; changed: boolean }> {
    const c = corpInputSchema.parse(input);
    const existing = await this.findRaw(c.corpId);
    if (existing && this.sameAs(existing, c)) return { corpId: c.corpId, created: false, changed: false };
    const { cipher } = this.deps;
    const doc = {
      corpId: c.corpId,
      kind: c.kind,
      displayName: c.displayName,
      agentId: c.agentId,
      secretSealed: cipher.encrypt(c.secret, corpSecretContext(c.corpId, 'secretSealed')),
      callbackTokenSealed: cipher.encrypt(c.callbackToken, corpSecretContext(c.corpId, 'callbackTokenSealed')),
      callbackAesKeySealed: cipher.encrypt(c.callbackAesKey, corpSecretContext(c.corpId, 'callbackAesKeySealed')),
      contactSyncTokenSealed: cipher.encryptOptional(
        c.contactSyncToken,
        corpSecretContext(c.corpId, 'contactSyncTokenSealed'),
      ),
      contactSyncAesKeySealed: cipher.encryptOptional(
        c.contactSyncAesKey,
        corpSecretContext(c.corpId, 'contactSyncAesKeySealed'),
      ),
      timezone: c.timezone ?? this.deps.defaultTimezone,
      enabled: c.enabled,
      retention: c.retention,
      tasks: c.tasks,
      privacy: c.privacy,
      consoleRoles: c.consoleRoles,
    };
    const unset = c.contactSyncToken === undefined ? { contactSyncTokenSealed: 1, contactSyncAesKeySealed: 1 } : {};
    await CorpModel.updateOne(
      { corpId: c.corpId },
      { $set: stripUndefined(doc), ...(Object.keys(unset).length ? { $unset: unset } : {}) },
      { upsert: true },
    );
    await this.announce(c.corpId);
    return { corpId: c.corpId, created: !existing, changed: true };
  }

  /** Changes some fields of an existing corp; throws when it does not exist. */
  async update(corpId: string, patch: CorpPatch): Promise<void> {
    const p = corpPatchSchema.parse(patch);
    const { cipher } = this.deps;
    const set: Record<string, unknown> = stripUndefined({
      kind: p.kind,
      displayName: p.displayName,
      agentId: p.agentId,
      timezone: p.timezone,
      enabled: p.enabled,
      retention: p.retention,
      tasks: p.tasks,
      privacy: p.privacy,
      consoleRoles: p.consoleRoles,
      secretSealed: cipher.encryptOptional(p.secret, corpSecretContext(corpId, 'secretSealed')),
      callbackTokenSealed: cipher.encryptOptional(p.callbackToken, corpSecretContext(corpId, 'callbackTokenSealed')),
      callbackAesKeySealed: cipher.encryptOptional(p.callbackAesKey, corpSecretContext(corpId, 'callbackAesKeySealed')),
      contactSyncTokenSealed: cipher.encryptOptional(
        p.contactSyncToken,
        corpSecretContext(corpId, 'contactSyncTokenSealed'),
      ),
      contactSyncAesKeySealed: cipher.encryptOptional(
        p.contactSyncAesKey,
        corpSecretContext(corpId, 'contactSyncAesKeySealed'),
      ),
    });
    const result = await CorpModel.updateOne({ corpId }, { $set: set });
    if (result.matchedCount === 0) throw new Error(`no corp with id ${corpId}`);
    await this.announce(corpId);
  }

  async disable(corpId: string): Promise<void> {
    await this.update(corpId, { enabled: false });
  }

  async list(): Promise<CorpSummary[]> {
    const docs = (await CorpModel.find({}).sort({ corpId: 1 }).lean()) as CorpDocument[];
    return docs.map(corpSummaryOf);
  }

  /** Every corp with its secrets opened, for the in-memory cache. */
  async loadAll(): Promise<Corp[]> {
    const docs = (await CorpModel.find({}).lean()) as CorpDocument[];
    return docs.map((d) => this.open(d));
  }

  private open(d: CorpDocument): Corp {
    const { cipher } = this.deps;
    const at = (field: string) => corpSecretContext(d.corpId, field);
    const syncToken = cipher.decryptOptional(d.contactSyncTokenSealed, at('contactSyncTokenSealed'));
    const syncKey = cipher.decryptOptional(d.contactSyncAesKeySealed, at('contactSyncAesKeySealed'));
    return {
      corpId: d.corpId,
      kind: d.kind as 'dealer' | 'oem',
      displayName: d.displayName,
      agentId: d.agentId,
      secret: cipher.decrypt(d.secretSealed, at('secretSealed')),
      callback: {
        token: cipher.decrypt(d.callbackTokenSealed, at('callbackTokenSealed')),
        encodingAesKey: cipher.decrypt(d.callbackAesKeySealed, at('callbackAesKeySealed')),
      },
      contactSync: syncToken && syncKey ? { token: syncToken, encodingAesKey: syncKey } : undefined,
      timezone: d.timezone,
      enabled: d.enabled,
      retention: retentionSettingsSchema.safeParse(d.retention ?? {}).data ?? defaultRetentionSettings,
      tasks: parseStoredTaskSettings(d.tasks),
      privacy: privacySettingsSchema.safeParse(d.privacy ?? {}).data ?? defaultPrivacySettings,
      consoleRoles: consoleRolesSchema.safeParse(d.consoleRoles ?? {}).data ?? defaultConsoleRoles,
    };
  }

  private async findRaw(corpId: string): Promise<CorpDocument | null> {
    return (await CorpModel.findOne({ corpId }).lean()) as CorpDocument | null;
  }

  /** Equal after opening the sealed values (each seal has a random IV, so compare plaintexts). */
  private sameAs(existing: CorpDocument, c: ReturnType<typeof corpInputSchema.parse>): boolean {
    const open = this.open(existing);
    return (
      open.kind === c.kind &&
      open.displayName === c.displayName &&
      open.agentId === c.agentId &&
      open.secret === c.secret &&
      open.callback.token === c.callbackToken &&
      open.callback.encodingAesKey === c.callbackAesKey &&
      open.contactSync?.token === c.contactSyncToken &&
      open.contactSync?.encodingAesKey === c.contactSyncAesKey &&
      open.timezone === (c.timezone ?? this.deps.defaultTimezone) &&
      open.enabled === c.enabled &&
      JSON.stringify(open.retention) === JSON.stringify(c.retention ?? defaultRetentionSettings) &&
      JSON.stringify(open.privacy) === JSON.stringify(c.privacy ?? defaultPrivacySettings) &&
      JSON.stringify(open.tasks) === JSON.stringify(c.tasks ?? defaultTaskSettings) &&
      JSON.stringify(open.consoleRoles) === JSON.stringify(c.consoleRoles ?? defaultConsoleRoles) &&
      !this.deps.cipher.needsRotation(existing.secretSealed)
    );
  }

  private async announce(corpId: string): Promise<void> {
    await this.deps.redis?.publish(corpsChannel(this.deps.prefix), corpId).catch(() => undefined);
  }
}

function stripUndefined<T extends Record<string, unknown>>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/** A stored corp without its secrets (CLIs, the corps API, the settings page). */
export function corpSummaryOf(d: CorpDocument): CorpSummary {
  return {
    corpId: d.corpId,
    kind: d.kind as 'dealer' | 'oem',
    displayName: d.displayName,
    agentId: d.agentId,
    timezone: d.timezone,
    enabled: d.enabled,
    hasContactSync: Boolean(d.contactSyncTokenSealed),
  };
}
