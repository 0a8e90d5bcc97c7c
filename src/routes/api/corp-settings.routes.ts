import Router from '@koa/router';
import type { Context } from 'koa';
import { z } from 'zod';
import { recordAudit } from '../../domain/audit/audit.service.js';
import { consoleRolesSchema, defaultConsoleRoles, type ConsoleRoles } from '../../domain/auth/console-roles.js';
import type { Principal } from '../../domain/auth/principal.js';
import type { CorpDocument } from '../../domain/corps/corp.model.js';
import { loadCorpDocument } from '../../domain/corps/corp-queries.js';
import { corpSummaryOf } from '../../domain/corps/corp.service.js';
import { corpIdSchema, corpPatchSchema, type CorpSummary } from '../../domain/corps/corp.types.js';
import {
  defaultRetentionSettings,
  retentionSettingsSchema,
  type RetentionSettings,
} from '../../domain/customers/retention-settings.js';
import { parseStoredTaskSettings, type TaskSettings } from '../../domain/tasks/task-settings.js';
import { principalOf } from '../../middlewares/auth.js';
import { assertCorp } from '../../middlewares/authorize.js';
import { ForbiddenError, NotFoundError, ValidationError } from '../../infra/errors.js';
import { parseOrThrow } from '../../infra/validation.js';
import { bodyOf, type ApiDeps } from './api-deps.js';

/** Who may read and change a corp's settings: admins every corp, dealer admins their own. */
export const SETTINGS_ROLES = ['admin', 'dealer_admin'] as const;

/**
 * What the console's settings page may change. Sections (`tasks`, `retention`, `consoleRoles`)
 * are replaced whole: the page sends back what it read, edited. Secrets are write-only.
 */
export const corpSettingsPatchSchema = corpPatchSchema.omit({ kind: true, privacy: true }).strict();

/** A corp's settings as the console shows them: secrets only as set / not set. */
export interface CorpSettingsView extends Omit<CorpSummary, 'hasContactSync'> {
  secrets: { secret: boolean; callbackToken: boolean; callbackAesKey: boolean; contactSync: boolean };
  tasks: TaskSettings;
  retention: RetentionSettings;
  consoleRoles: ConsoleRoles;
}

function present(d: CorpDocument): CorpSettingsView {
  const { hasContactSync: _hasContactSync, ...summary } = corpSummaryOf(d);
  return {
    ...summary,
    secrets: {
      secret: Boolean(d.secretSealed),
      callbackToken: Boolean(d.callbackTokenSealed),
      callbackAesKey: Boolean(d.callbackAesKeySealed),
      contactSync: Boolean(d.contactSyncTokenSealed && d.contactSyncAesKeySealed),
    },
    tasks: parseStoredTaskSettings(d.tasks),
    retention: retentionSettingsSchema.safeParse(d.retention ?? {}).data ?? defaultRetentionSettings,
    consoleRoles: consoleRolesSchema.safeParse(d.consoleRoles ?? {}).data ?? defaultConsoleRoles,
  };
}

/**
 * What only an admin may change: switching a corp on or off, and who is an operator admin (an
 * admin sees every corp, so a dealer admin granting it would escape their own corp).
 */
function assertDealerAdminMayChange(
  p: Principal,
  patch: z.infer<typeof corpSettingsPatchSchema>,
  current: ConsoleRoles,
  kind: string,
): void {
  const carMakerLists = (['oem', 'analysts'] as const).filter((k) => (patch.consoleRoles?.[k].length ?? 0) > 0);
  if (kind !== 'oem' && carMakerLists.length > 0)
    throw new ValidationError(
      carMakerLists.map((k) => ({
        path: `/consoleRoles/${k}`,
        message: "only the car maker's corp (kind oem) has oem and analyst members; leave it empty",
      })),
    );
  if (p.role === 'admin') return;
  if (patch.enabled !== undefined)
    throw new ForbiddenError('only operator admins enable or disable a corp', 'field_forbidden');
  const admins = patch.consoleRoles?.admins;
  if (admins && JSON.stringify([...admins].sort()) !== JSON.stringify([...current.admins].sort())) {
    throw new ForbiddenError(
      'only operator admins grant or remove the admin role (it reaches every corp)',
      'field_forbidden',
    );
  }
}

/**
 * `/api/v1/corps/:corpId/settings` (docs/console.md, the console's settings page): admins for every corp,
 * dealer admins for their own (another corp answers 404 on read, 403 on write, as elsewhere).
 * Changes go through CorpService (secrets sealed, processes told to reload); the audit record names
 * the changed fields, never their values.
 */
export function createCorpSettingsRouter(deps: ApiDeps): Router {
  const router = new Router();
  const load = async (corpId: string) => {
    const doc = await loadCorpDocument(corpId);
    if (!doc) throw new NotFoundError(`no corp ${corpId}`, 'corp_not_found');
    return doc;
  };
  const corpParam = (ctx: Context) => parseOrThrow(corpIdSchema, ctx.params.corpId, '/corpId');

  router.get('/corps/:corpId/settings', async function getCorpSettings(ctx) {
    const corpId = corpParam(ctx);
    assertCorp(principalOf(ctx), corpId, 'read');
    ctx.body = present(await load(corpId));
  });

  router.patch('/corps/:corpId/settings', async function patchCorpSettings(ctx) {
    const corpId = corpParam(ctx);
    const p = principalOf(ctx);
    assertCorp(p, corpId, 'write');
    const patch = parseOrThrow(corpSettingsPatchSchema, bodyOf(ctx) ?? {});
    const current = present(await load(corpId));
    assertDealerAdminMayChange(p, patch, current.consoleRoles, current.kind);
    await deps.corpService.update(corpId, patch);
    await recordAudit({
      actor: p,
      action: 'corp.settings_update',
      target: { type: 'corp', id: corpId, corpId },
      requestId: ctx.state.reqId as string | undefined,
      detail: { fields: Object.keys(patch) },
      at: deps.clock.now(),
    });
    ctx.body = present(await load(corpId));
  });
  return router;
}
