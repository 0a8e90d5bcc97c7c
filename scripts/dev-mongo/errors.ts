import type { Document } from 'bson';

/** MongoDB error code names for the codes this server emits. */
const CODE_NAMES: Record<number, string> = {
  2: 'BadValue',
  9: 'FailedToParse',
  11: 'UserNotFound',
  13: 'Unauthorized',
  14: 'TypeMismatch',
  20: 'IllegalOperation',
  26: 'NamespaceNotFound',
  27: 'IndexNotFound',
  40: 'ConflictingUpdateOperators',
  43: 'CursorNotFound',
  48: 'NamespaceExists',
  52: 'DollarPrefixedFieldName',
  53: 'InvalidIdField',
  59: 'CommandNotFound',
  66: 'ImmutableField',
  67: 'CannotCreateIndex',
  72: 'InvalidOptions',
  73: 'InvalidNamespace',
  85: 'IndexOptionsConflict',
  86: 'IndexKeySpecsConflict',
  112: 'WriteConflict',
  115: 'CommandNotSupported',
  238: 'NotImplemented',
  251: 'NoSuchTransaction',
  10334: 'BSONObjectTooLarge',
  11000: 'DuplicateKey',
  40323: 'Location40323',
  40601: 'Location40601',
  51024: 'Location51024',
};

/** Name for a MongoDB error code, or 'UnknownError'. */
export function codeName(code: number): string {
  return CODE_NAMES[code] ?? 'UnknownError';
}

/**
 * A command failure that is answered as `{ ok: 0, code, codeName, errmsg, ...extra }`.
 * `extra` carries fields such as keyPattern/keyValue that the driver copies onto MongoServerError.
 */
export class CommandError extends Error {
  readonly code: number;
  readonly extra: Document;
  readonly errorLabels: string[] | undefined;

  constructor(code: number, message: string, extra: Document = {}, errorLabels?: string[]) {
    super(message);
    this.name = 'CommandError';
    this.code = code;
    this.extra = extra;
    this.errorLabels = errorLabels;
  }

  /** The reply document for a failed command. */
  toReply(): Document {
    const reply: Document = {
      ok: 0,
      errmsg: this.message,
      code: this.code,
      codeName: codeName(this.code),
      ...this.extra,
    };
    if (this.errorLabels) reply.errorLabels = this.errorLabels;
    return reply;
  }

  /** The entry for a write command's `writeErrors` array (batch-relative index). */
  toWriteError(index: number): Document {
    return { index, code: this.code, ...this.extra, errmsg: this.message };
  }
}

/**
 * A write met a document that another open transaction inserted (docs/dev-mongo.md,
 * "Transactions"). Inside a transaction MongoDB answers `112 WriteConflict` with the
 * `TransientTransactionError` label and aborts it, so the driver's `withTransaction` retries; a
 * write outside one waits until that transaction ends and then runs. `holder` is the other
 * transaction's key, for the dispatcher to wait on.
 */
export class WriteConflict extends CommandError {
  constructor(readonly holder: string) {
    super(
      112,
      'Write conflict during plan execution and yielding is disabled. :: Please retry your operation or multi-document transaction.',
      {},
      ['TransientTransactionError'],
    );
  }
}

/** A feature this dev server deliberately does not implement. */
export function notImplemented(feature: string): CommandError {
  return new CommandError(238, `${feature} is not supported by the dev-mongo development server (it is not MongoDB)`);
}

/** Maps anything thrown (mingo errors included) to a CommandError with a MongoDB code. */
export function toCommandError(err: unknown): CommandError {
  if (err instanceof CommandError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const unknownOp = /Unknown update operator: '?(\$?[^'.]*)'?/.exec(message);
  if (unknownOp) {
    return new CommandError(
      9,
      `Unknown modifier: ${unknownOp[1] ?? ''}. Expected a valid update modifier or pipeline-style update specified as an array`,
    );
  }
  if (/immutable field '_id'/.test(message))
    return new CommandError(66, "Performing an update on the path '_id' would modify the immutable field '_id'");
  if (/conflict/i.test(message)) return new CommandError(40, message);
  return new CommandError(2, message);
}
