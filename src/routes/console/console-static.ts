import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';
import type { Context, Next } from 'koa';

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.json': 'application/json',
  '.ico': 'image/x-icon',
  '.html': 'text/html; charset=utf-8',
};

/**
 * The console's Content-Security-Policy: only our own scripts and the `/api/v1` back end. Inline
 * `style` attributes stay allowed because Element Plus positions popovers with them; no inline
 * scripts, no eval, no framing (clickjacking on one-tap task buttons).
 */
export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self' 'unsafe-inline'",
  "img-src 'self' data:",
  "font-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
  "form-action 'self'",
].join('; ');

/**
 * Serves the built SPA under `/console/`: hashed `assets/*` cached for a year (immutable), every
 * other path answers index.html (client-side routes such as /console/m/tasks/:id) without
 * caching so a deploy takes effect on the next load. `/console/auth/*` is left to its router.
 */
export function createConsoleStatic(dir: string = resolve(process.cwd(), 'dist/console')) {
  const root = resolve(dir);
  const indexPath = join(root, 'index.html');
  const sidebarPath = join(root, 'sidebar.html');
  let index: Buffer | undefined;
  let sidebar: Buffer | undefined;
  return async function consoleStatic(ctx: Context, next: Next): Promise<void> {
    if (ctx.path !== '/console' && !ctx.path.startsWith('/console/')) return next();
    if (ctx.path.startsWith('/console/auth/')) return next();
    if (ctx.method !== 'GET' && ctx.method !== 'HEAD') return next();
    if (ctx.path === '/console') return ctx.redirect('/console/');
    setSecurityHeaders(ctx);
    if (ctx.path.startsWith('/console/assets/')) {
      const file = safeResolve(root, ctx.path.slice('/console'.length));
      if (!file || !file.startsWith(root + sep) || !existsSync(file) || !statSync(file).isFile()) {
        ctx.status = 404;
        ctx.body = { error: { code: 'not_found', message: 'no such console asset' } };
        return;
      }
      ctx.set('Cache-Control', 'public, max-age=31536000, immutable');
      ctx.type = TYPES[extname(file)] ?? 'application/octet-stream';
      ctx.body = createReadStream(file);
      return;
    }
    // The chat sidebar is its own small page (docs/console.md, "Advisor sidebar").
    if (ctx.path === '/console/sidebar' || ctx.path.startsWith('/console/sidebar/')) {
      if (!sidebar && existsSync(sidebarPath)) sidebar = readFileSync(sidebarPath);
      if (sidebar) {
        ctx.set('Cache-Control', 'no-cache');
        ctx.type = 'text/html; charset=utf-8';
        ctx.body = sidebar;
        return;
      }
    }
    if (!index && existsSync(indexPath)) index = readFileSync(indexPath);
    if (!index) {
      ctx.status = 503;
      ctx.body = { error: { code: 'console_not_built', message: 'the console is not built; run npm run build' } };
      return;
    }
    ctx.set('Cache-Control', 'no-cache');
    ctx.type = 'text/html; charset=utf-8';
    ctx.body = index;
  };
}

function setSecurityHeaders(ctx: Context): void {
  ctx.set('Content-Security-Policy', CONSOLE_CSP);
  ctx.set('X-Content-Type-Options', 'nosniff');
  ctx.set('Referrer-Policy', 'same-origin');
  ctx.set('X-Frame-Options', 'DENY');
}

/** The file under `root` for a URL path, or undefined for malformed escapes. */
function safeResolve(root: string, urlPath: string): string | undefined {
  try {
    return resolve(root, `.${decodeURIComponent(urlPath)}`);
  } catch {
    return undefined;
  }
}
