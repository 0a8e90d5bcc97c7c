import type { Clock } from '../../../src/infra/clock.js';
import type { Logger } from '../../../src/infra/logger.js';
import type { CorpWorld } from '../world/model.js';
import type { World } from '../world/world.js';
import type { CallLog } from './call-log.js';
import type { FaultInjector } from './faults.js';
import type { Limits } from './limits.js';
import type { TicketStore } from './tickets.js';
import type { TokenStore } from './tokens.js';

/** Everything a sandbox handler may touch. */
export interface SandboxContext {
  world: World;
  clock: Clock;
  tokens: TokenStore;
  /** JS-SDK tickets (docs/wecom.md §10.2). */
  tickets: TicketStore;
  calls: CallLog;
  faults: FaultInjector;
  limits: Limits;
  logger: Logger;
  /** The sandbox's own base URL (for media URLs and sign-in pages). */
  baseUrl(): string;
}

export interface ApiRequest {
  corp: CorpWorld;
  query: Readonly<Record<string, string>>;
  body: unknown;
  /**
   * Multipart uploads: the body's size and the file name; `data` and `contentType` are the first
   * file part's bytes and declared type (not kept in the world).
   */
  upload?: { bytes: number; filename?: string; data?: Buffer; contentType?: string };
  sb: SandboxContext;
}

export type ApiResult = Record<string, unknown> | void;

/** One WeCom endpoint: `endpoint` is the path below `/cgi-bin/`. */
export interface ApiRoute {
  method: 'GET' | 'POST';
  handler: (req: ApiRequest) => ApiResult | Promise<ApiResult>;
  /** In-flight keys with their caps (45033 per corp, 45035 per record). */
  inflight?: (req: ApiRequest) => Array<{ key: string; limit: number; errcode: number; errmsg: string }>;
}

export type ApiRoutes = Record<string, ApiRoute>;
