import type { Context, Next } from 'koa';
import { AppError, RateLimitedError, ServiceUnavailableError } from '../infra/errors.js';

const statusCodes: Record<number, string> = {
  400: 'bad_request',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  409: 'conflict',
  411: 'length_required',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  422: 'validation_failed',
  429: 'rate_limited',
};

/** The shape of Koa's own errors (ctx.throw, http-errors from body parsers and the router). */
interface HttpLikeError {
  status?: number;
  statusCode?: number;
  expose?: boolean;
  message?: string;
  headers?: Record<string, string>;
}

const DATABASE_UNAVAILABLE = new Set([
  'MongooseServerSelectionError',
  'MongoServerSelectionError',
  'MongoNetworkError',
  'MongoNetworkTimeoutError',
  'MongoNotConnectedError',
  'MongoTopologyClosedError',
]);

/**
 * MongoDB being away is not a bug in the request: say 503 so clients retry (docs/architecture.md §3: the web
 * stays up without MongoDB; only the routes that need it fail, fast).
 */
function asDatabaseUnavailable(err: Error): ServiceUnavailableError | undefined {
  const unavailable =
    DATABASE_UNAVAILABLE.has(err.name) ||
    /before initial connection is complete|Client must be connected/i.test(err.message ?? '');
  return unavailable
    ? new ServiceUnavailableError(
        'the database is unavailable right now; try again in a moment',
        'database_unavailable',
      )
    : undefined;
}

/**
 * First middleware: turns every error into `{ error: { code, message } }`. Known client errors
 * keep their status; anything else is a generic 500, logged once through `app.on('error')`.
 */
export function createErrorHandler() {
  return async function errorHandler(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
    } catch (caught) {
      const err = (asDatabaseUnavailable(caught as Error) ?? caught) as Error & HttpLikeError;
      const status = err instanceof AppError ? err.status : (err.status ?? err.statusCode ?? 500);
      const clientError = status >= 400 && status < 500;
      const expose = err instanceof AppError ? err.expose : clientError && err.expose !== false;
      ctx.status = status >= 400 && status < 600 ? status : 500;
      if (err.headers) ctx.set(err.headers);
      if (err instanceof RateLimitedError) ctx.set('Retry-After', String(err.retryAfterSeconds));
      const code =
        err instanceof AppError
          ? err.code
          : (statusCodes[ctx.status] ?? (clientError ? 'bad_request' : 'internal_error'));
      const body: { code: string; message: string; details?: unknown } = {
        code: expose ? code : 'internal_error',
        message: expose
          ? (err.message ?? code)
          : 'internal error; the request id in the X-Request-Id header helps the operator find it',
      };
      if (expose && err instanceof AppError && err.details !== undefined) body.details = err.details;
      ctx.body = { error: body };
      if (!expose || ctx.status >= 500) ctx.app.emit('error', err, ctx);
    }
  };
}
