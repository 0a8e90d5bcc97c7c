import type { Corp } from '../corps/corp.types.js';
import { AdvisorModel } from '../customers/advisor.model.js';
import { defaultConsoleRoles, principalForMember } from './console-roles.js';
import type { ConsoleSession, PrincipalRevalidator } from './console-session.js';
import type { Principal } from './principal.js';

export interface PrincipalSourceDeps {
  /** The corp cache (CorpCache.get): console roles and whether the corp is enabled. */
  corp: (corpId: string) => Corp | undefined;
  /** TokenService.resolveById. */
  tokenById: (tokenId: string) => Promise<Principal | undefined>;
  /** The bootstrap token's principal id, and whether the token is still configured. */
  bootstrapTokenId: string;
  bootstrapConfigured: boolean;
}

/**
 * Where a console session's rights come from, asked again (console-session.ts): a token
 * session → its API token (revoked → none); a WeCom session → the corp (switched off → none), its
 * console roles and the member directory (left or disabled → none; departments led now), mapped
 * exactly as at sign-in (console-auth.routes.ts). Errors (MongoDB down) propagate: the request
 * fails with 503 rather than continuing on stale rights.
 */
export function createPrincipalSource(deps: PrincipalSourceDeps): PrincipalRevalidator {
  return async function revalidate(session: ConsoleSession): Promise<Principal | undefined> {
    const p = session.principal;
    if (session.via === 'token') {
      if (p.tokenId === deps.bootstrapTokenId) return deps.bootstrapConfigured ? p : undefined;
      return deps.tokenById(p.tokenId);
    }
    const corp = session.corpId ? deps.corp(session.corpId) : undefined;
    if (!corp || !corp.enabled || !p.userid) return undefined;
    const advisor = await AdvisorModel.findOne(
      { corpId: corp.corpId, userid: p.userid },
      { leadsDepartments: 1, status: 1 },
    ).lean();
    if (advisor && advisor.status !== 'active') return undefined;
    return principalForMember({
      corpId: corp.corpId,
      corpKind: corp.kind,
      userid: p.userid,
      roles: corp.consoleRoles ?? defaultConsoleRoles,
      leadsDepartments: advisor?.leadsDepartments ?? [],
      sessionTag: p.tokenId,
    });
  };
}
