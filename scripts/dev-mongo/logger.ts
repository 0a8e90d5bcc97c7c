/** The logging sink the server writes to (a pino logger fits). */
export interface DevMongoLogger {
  info(obj: object, msg?: string): void;
  /** Routine events (the periodic snapshot); optional, dropped when absent. */
  debug?(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** Default sink: one JSON line per event on stderr, so stdout stays free for the URI. */
export const stderrLogger: DevMongoLogger = {
  info: (obj, msg) => console.error(JSON.stringify({ level: 'info', msg, ...obj })),
  warn: (obj, msg) => console.error(JSON.stringify({ level: 'warn', msg, ...obj })),
  error: (obj, msg) => console.error(JSON.stringify({ level: 'error', msg, ...obj })),
};
