import type { Context, Next } from 'koa';
import { canAccessCorp, type Principal, type Role } from '../domain/auth/principal.js';
import { principalOf } from './auth.js';
import { ForbiddenError, NotFoundError } from '../infra/errors.js';

/**
 * Function-level authorisation (OWASP API5): every route declares the roles it allows. The
 * route still scopes its data with `assertCorp`/`corpFilter` (API1, object level).
 */
export function requireRoles(...roles: Role[]) {
  return async function authorize(ctx: Context, next: Next): Promise<void> {
    const p = principalOf(ctx);
    if (!roles.includes(p.role))
      throw new ForbiddenError(
        `this needs one of the roles ${roles.join(', ')}; your token has ${p.role}`,
        'role_forbidden',
      );
    await next();
  };
}

/**
 * Refuses a corp outside the principal's corps. For reads of a specific object it answers 404
 * (the object's existence in another corp is not revealed); for writes naming a corp, 403.
 */
export function assertCorp(p: Principal, corpId: string, mode: 'read' | 'write' = 'write'): void {
  if (canAccessCorp(p, corpId)) return;
  if (mode === 'read') throw new NotFoundError('not found');
  throw new ForbiddenError(`your token cannot act in corp ${corpId}`, 'corp_forbidden');
}
