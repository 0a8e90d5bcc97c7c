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

/** The caller's X-Request-Id when it is safe to log and echo, else a new one. */
export function requestIdFrom(incoming: string | string[] | undefined): string {
  return typeof incoming === 'string' && SAFE_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * Gives each request an id (the caller's X-Request-Id when it is safe) and a child logger.
 * The child is created on first use of `ctx.state.log`: pino's child() serialises and redacts
 * its bindings, a measurable cost on the callback hot path, where most requests never log.
 */
export function createRequestId(logger: Logger) {
  return async function requestId(ctx: Context, next: Next): Promise<void> {
    const reqId = requestIdFrom(ctx.get('X-Request-Id'));
    ctx.state.reqId = reqId;
    defineLazyLog(ctx.state, () => logger.child({ reqId }));
    ctx.set('X-Request-Id', reqId);
    await next();
  };
}

/** `state.log` as a getter that creates the logger once, then behaves as a plain property. */
function defineLazyLog(state: { log: Logger }, create: () => Logger): void {
  const settle = (value: Logger) => {
    Object.defineProperty(state, 'log', { value, writable: true, enumerable: true, configurable: true });
    return value;
  };
  Object.defineProperty(state, 'log', {
    get: () => settle(create()),
    set: (value: Logger) => settle(value),
    enumerable: true,
    configurable: true,
  });
}
