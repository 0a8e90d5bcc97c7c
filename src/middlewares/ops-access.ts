import { createHash, timingSafeEqual } from 'node:crypto';
import type { Context } from 'koa';

/**
 * Who may read operational details on the web port: `/metrics` and the dependency details of
 * `/readyz` (docs/security.md, "Operational endpoints"). With OPS_TOKEN, callers presenting it as
 * a bearer token; without it, nobody in production (scrape the worker's internal health port, or
 * set OPS_TOKEN) and everybody elsewhere. `/readyz` keeps its status codes for probes either way.
 */
export function createOpsAccess(config: {
  opsToken: string | undefined;
  isProduction: boolean;
}): (ctx: Context) => boolean {
  if (!config.opsToken) return () => !config.isProduction;
  const expected = digest(config.opsToken);
  return function opsAccess(ctx: Context): boolean {
    const [scheme, value] = ctx.get('Authorization').split(' ', 2);
    return (
      scheme?.toLowerCase() === 'bearer' && Boolean(value) && timingSafeEqual(digest(value?.trim() ?? ''), expected)
    );
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
