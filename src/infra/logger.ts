import { pino, type Logger, type LoggerOptions } from 'pino';

export type { Logger } from 'pino';

/**
 * Paths pino removes from every log line: secrets and personal data (docs/architecture.md §7).
 * Log ids, never names, phones, remarks, message bodies, tokens or keys.
 */
export const REDACT_PATHS = [
  'authorization',
  '*.authorization',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.cookie',
  'token',
  '*.token',
  'accessToken',
  '*.accessToken',
  'access_token',
  '*.access_token',
  'secret',
  '*.secret',
  'corpsecret',
  '*.corpsecret',
  'appSecret',
  '*.appSecret',
  'encodingAesKey',
  '*.encodingAesKey',
  'aesKey',
  '*.aesKey',
  'password',
  '*.password',
  '*.name',
  'remark',
  '*.remark',
  'description',
  '*.description',
  'mobile',
  '*.mobile',
  'mobiles',
  '*.mobiles',
  'remark_mobiles',
  '*.remark_mobiles',
  'phone',
  '*.phone',
  'birthday',
  '*.birthday',
  'content',
  '*.content',
  'text',
  '*.text',
  'xml',
  '*.xml',
  'body',
  '*.body',
  'plaintext',
  '*.plaintext',
];

export interface LoggerSettings {
  level: string;
  /** Process role or component, e.g. `web`, `worker`, `sandbox`. */
  name: string;
  /** Where to write; defaults to stdout. Tests pass a stream to capture lines. */
  destination?: NodeJS.WritableStream;
}

/** A pino JSON logger with the house redaction list. */
export function createLogger({ level, name, destination }: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name,
    level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}
