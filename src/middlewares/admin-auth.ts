import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context, Next } from 'koa';

/**
 * Admin authentication until the rules issue brings roles: the BOOTSTRAP_API_TOKEN, given as
 * `Authorization: Bearer <token>` (scripts) or as the password of HTTP Basic auth (a browser
 * opening /admin/queues gets the login prompt). Compared in constant time over digests, so
 * neither the length nor the content leaks through timing. Without a configured token every
 * admin route is refused.
 */
export function createBootstrapAdminAuth(token: string | undefined) {
  const expected = token ? digest(token) : undefined;
  return async function adminAuth(ctx: Context, next: Next): Promise<void> {
    if (!expected) {
      ctx.status = 403;
      ctx.body = { error: { code: 'admin_disabled', message: 'admin routes need BOOTSTRAP_API_TOKEN to be configured' } };
      return;
    }
    const given = presentedToken(ctx.get('Authorization'));
    if (given === undefined || !timingSafeEqual(digest(given), expected)) {
      ctx.status = 401;
      ctx.set('WWW-Authenticate', 'Basic realm="scrm-admin", charset="UTF-8"');
      ctx.body = { error: { code: 'unauthorized', message: 'admin token required (Bearer, or the password of Basic auth)' } };
      return;
    }
    await next();
  };
}

function presentedToken(header: string): string | undefined {
  const [scheme, value] = header.split(' ', 2);
  if (!scheme || !value) return undefined;
  if (scheme.toLowerCase() === 'bearer') return value.trim();
  if (scheme.toLowerCase() === 'basic') {
    const decoded = Buffer.from(value.trim(), 'base64').toString('utf8');
    const sep = decoded.indexOf(':');
    return sep >= 0 ? decoded.slice(sep + 1) : undefined;
  }
  return undefined;
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
