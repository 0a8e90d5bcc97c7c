import type { Redis } from 'ioredis';
import type { AppConfig } from '../../../config/index.js';
import type { ConsoleSessions } from '../../domain/auth/console-session.js';
import type { Corp } from '../../domain/corps/corp.types.js';
import type { Clock } from '../../infra/clock.js';
import type { TokenResolver } from '../../middlewares/auth.js';

/** What the console's server side needs; built once in src/main.ts, stubbed in tests. */
export interface ConsoleDeps {
  config: AppConfig;
  clock: Clock;
  sessions: ConsoleSessions;
  /** The producer connection: per-client rate limits of the sign-in routes. */
  redis: Redis;
  /** The corp cache (CorpCache.get). */
  corp: (corpId: string) => Corp | undefined;
  corps: () => Corp[];
  /** `auth/getuserinfo`: the member's userid for a sign-in code, undefined for non-members. */
  exchangeCode: (corp: Corp, code: string) => Promise<string | undefined>;
  /** API tokens (TokenService.resolve); the bootstrap token is checked by the router. */
  resolveToken: TokenResolver;
  /** Built SPA (vite build output); default `<cwd>/dist/console`. */
  consoleDir?: string;
}
