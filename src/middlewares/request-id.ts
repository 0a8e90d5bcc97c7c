import { randomUUID } from 'node:crypto';
import type { Context, Next } from 'koa';
import type { Logger } from '../infra/logger.js';

declare module 'koa' {
  interface DefaultState {
    reqId: string;
    log: Logger;
  }
}

const SAFE_ID = /^[A-Za-z0-9._-]{1,64}$/;

/** Gives each request an id (the caller's X-Request-Id when it is safe) and a child logger. */
export function createRequestId(logger: Logger) {
  return async function requestId(ctx: Context, next: Next): Promise<void> {
    const incoming = ctx.get('X-Request-Id');
    const reqId = SAFE_ID.test(incoming) ? incoming : randomUUID();
    ctx.state.reqId = reqId;
    ctx.state.log = logger.child({ reqId });
    ctx.set('X-Request-Id', reqId);
    await next();
  };
}
