/**
 * The error model (docs/architecture.md §13.3): classes so `instanceof` works, a stable snake_case `code`,
 * and `expose` deciding whether the message may reach the client. They live in `infra/` so the domain
 * can throw them without importing the HTTP layer; the Koa error middleware
 * (`src/middlewares/errors.ts`) turns them into responses.
 */
export class AppError extends Error {
  readonly status: number;
  readonly code: string;
  readonly expose: boolean;
  readonly details: unknown;

  constructor(
    status: number,
    code: string,
    message: string,
    options: { details?: unknown; cause?: unknown; expose?: boolean } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.status = status;
    this.code = code;
    this.expose = options.expose ?? status < 500;
    this.details = options.details;
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'bad_request', details?: unknown) {
    super(400, code, message, { details });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'authentication required', code = 'unauthorized') {
    super(401, code, message);
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'you are not allowed to do this', code = 'forbidden') {
    super(403, code, message);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'not found', code = 'not_found') {
    super(404, code, message);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'conflict') {
    super(409, code, message);
  }
}

export interface FieldProblem {
  path: string;
  message: string;
}

/** 422 with a list of `{ path, message }` a person can act on. */
export class ValidationError extends AppError {
  constructor(
    readonly problems: FieldProblem[],
    message = 'some fields are invalid',
  ) {
    super(422, 'validation_failed', message, { details: problems });
  }
}

export class RateLimitedError extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'rate_limited', `too many requests; retry after ${retryAfterSeconds} s`);
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string, code = 'service_unavailable') {
    super(503, code, message, { expose: true });
  }
}
