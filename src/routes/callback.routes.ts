import type { Context, Middleware } from 'koa';
import type { Corp, CallbackCredentials } from '../domain/corps/corp.types.js';
import { dedupKeyFor } from '../ingest/dedup.js';
import { checkInnerXml, extractEncrypt, hasForbiddenDtd } from '../ingest/envelope.js';
import type { InboundAcceptor } from '../ingest/inbound-acceptor.js';
import type { WelcomeLane } from '../ingest/welcome-lane.js';
import { reject, verifyCallback, type Rejection } from '../ingest/callback-verifier.js';
import type { Alerter } from '../infra/alerts.js';
import type { Clock } from '../infra/clock.js';
import type { Logger } from '../infra/logger.js';
import type { CallbackOutcome, Metrics } from '../infra/metrics.js';
import { parseRawQuery, readRawBody } from '../middlewares/raw-body.js';

/** The two receivers a corp can have (design §3): its app, and the contact-sync assistant. */
export type CallbackEndpoint = 'callback' | 'contact-sync';

export interface CallbackRouteDeps {
  corps: { get(corpId: string): Corp | undefined };
  acceptor: InboundAcceptor;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  /** ±seconds accepted around now; 0 disables (CALLBACK_TIMESTAMP_WINDOW_S). */
  timestampWindowS: number;
  alerts?: Alerter;
  /** Enqueues the welcome of an add event straight away (src/ingest/welcome-lane.ts). */
  welcomeLane?: WelcomeLane;
  /** Body limit in bytes (64 KB, design §3 step 1). */
  bodyLimit?: number;
}

const BODY_LIMIT = 64 * 1024;

/** What the app mounts: `routes()` like a @koa/router Router, so callers mount it the same way. */
export interface CallbackRouter {
  routes(): Middleware;
}

/**
 * The two paths as @koa/router (path-to-regexp 8, defaults) matches `/wecom/<endpoint>/:corpId`:
 * any method, case-insensitive, one optional trailing slash, the id one non-empty segment.
 */
const CALLBACK_PATH_RE = /^\/wecom\/(callback|contact-sync)\/([^/]+)\/?$/i;

/**
 * `GET|POST /wecom/callback/:corpId` and `/wecom/contact-sync/:corpId` (design §3, reference
 * §1.3–1.5). Verifies, de-duplicates, makes durable and answers; parses nothing beyond what the
 * de-duplication key needs. Bad input is a 4xx, never a 500; when the event can be made durable
 * nowhere the connection is closed without an answer so WeCom retries.
 *
 * Matched with one regular expression rather than a @koa/router Router: this is the only hot
 * path of the web process, and the router's generic matching, context bookkeeping and
 * per-request middleware composition were a measurable share of its CPU in the ingest bench.
 */
export function createCallbackRouter(deps: CallbackRouteDeps): CallbackRouter {
  const middleware: Middleware = function callbackRoutes(ctx, next) {
    const match = CALLBACK_PATH_RE.exec(ctx.path);
    if (!match) return next();
    const endpoint: CallbackEndpoint = (match[1] as string).toLowerCase() === 'callback' ? 'callback' : 'contact-sync';
    return handle(ctx, endpoint, decodeParam(match[2] as string), deps);
  };
  return { routes: () => middleware };
}

/** @koa/router's decoding of a path parameter: the raw text when it is not valid percent-encoding. */
function decodeParam(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

function credentialsOf(corp: Corp | undefined, endpoint: CallbackEndpoint): CallbackCredentials | undefined {
  if (!corp?.enabled) return undefined;
  return endpoint === 'callback' ? corp.callback : corp.contactSync;
}

async function handle(ctx: Context, endpoint: CallbackEndpoint, corpId: string, deps: CallbackRouteDeps): Promise<void> {
  const started = performance.now();
  const corp = deps.corps.get(corpId);
  const label = corp ? corpId : 'unknown';
  let outcome: CallbackOutcome;
  try {
    const result = ctx.method === 'POST' ? await ingest(ctx, endpoint, corpId, corp, deps) : ctx.method === 'GET' || ctx.method === 'HEAD' ? verifyUrl(ctx, endpoint, corpId, corp, deps) : reject(405, 'malformed', `method ${ctx.method} not allowed`);
    if (!result.ok) {
      outcome = result.rejection.outcome;
      refuse(ctx, result.rejection, endpoint, corpId, deps);
      if (result.rejection.status === 405) ctx.set('Allow', 'GET, HEAD, POST');
    } else {
      outcome = result.outcome;
    }
  } catch (err) {
    // A bug, not bad input: no 500 (WeCom might drop the event); close so WeCom retries.
    outcome = 'dropped';
    (ctx.state.log ?? deps.logger).error({ err, corpId: safeId(corpId), endpoint }, 'callback handler failed; closing the connection');
    closeWithoutAnswer(ctx);
  }
  deps.metrics.countCallback(label, endpoint, outcome);
  deps.metrics.ackSeconds.labels(endpoint).observe((performance.now() - started) / 1000);
}

type HandleResult = { ok: true; outcome: CallbackOutcome } | { ok: false; rejection: Rejection };

/** URL verification (reference §1.3): answer exactly the decrypted echostr as text/plain. */
function verifyUrl(ctx: Context, endpoint: CallbackEndpoint, corpId: string, corp: Corp | undefined, deps: CallbackRouteDeps): HandleResult {
  const creds = credentialsOf(corp, endpoint);
  if (!creds) return reject(404, 'unknown_corp', corp ? `corp disabled or has no ${endpoint} credentials` : 'unknown corp');
  const query = parseRawQuery(ctx.querystring);
  if (!query) return reject(400, 'bad_encoding', 'malformed query string');
  const echostr = query.echostr;
  if (!echostr) return reject(400, 'malformed', 'missing echostr');
  const verified = verifyCallback(creds, corpId, query, echostr, 0, 0);
  if (!verified.ok) {
    noteRejection(verified.rejection, corpId, corp, deps);
    return verified;
  }
  ctx.status = 200;
  ctx.type = 'text/plain';
  ctx.body = verified.message;
  return { ok: true, outcome: 'verified' };
}

/** Event delivery (reference §1.4, design §3 steps 1–9). */
async function ingest(ctx: Context, endpoint: CallbackEndpoint, corpId: string, corp: Corp | undefined, deps: CallbackRouteDeps): Promise<HandleResult> {
  const encoding = ctx.get('Content-Encoding');
  const read = await readRawBody(ctx.req, deps.bodyLimit ?? BODY_LIMIT);
  if (!read.ok) {
    if (read.destroy) ctx.set('Connection', 'close');
    return reject(read.status, read.status === 413 ? 'too_large' : 'malformed', read.reason === 'too_large' ? 'body over the limit' : 'body not received');
  }
  if (encoding && encoding.toLowerCase() !== 'identity') return reject(415, 'bad_encoding', 'compressed bodies are not accepted');
  const creds = credentialsOf(corp, endpoint);
  if (!creds) return reject(404, 'unknown_corp', corp ? `corp disabled or has no ${endpoint} credentials` : 'unknown corp');
  const query = parseRawQuery(ctx.querystring);
  if (!query) return reject(400, 'bad_encoding', 'malformed query string');
  const envelope = extractEncrypt(read.body.toString('utf8'));
  if (!envelope.ok) return reject(400, envelope.reason === 'forbidden_dtd' ? 'forbidden_dtd' : 'malformed', `envelope: ${envelope.reason}`);
  const nowMs = deps.clock.nowMs();
  const verified = verifyCallback(creds, corpId, query, envelope.encrypt, Math.floor(nowMs / 1000), deps.timestampWindowS);
  if (!verified.ok) {
    noteRejection(verified.rejection, corpId, corp, deps);
    return verified;
  }
  const xml = verified.message;
  const problem = checkInnerXml(xml);
  if (problem) return reject(400, hasForbiddenDtd(xml) ? 'forbidden_dtd' : 'malformed', `decrypted message: ${problem}`);

  const key = dedupKeyFor(corpId, xml);
  // The welcome job goes out beside the inbound job, in parallel: one more round trip only for adds.
  const [accepted] = await Promise.all([deps.acceptor.accept(key, { corpId, receivedAt: nowMs, xml }), deps.welcomeLane?.offer(corpId, xml, nowMs)]);
  if (accepted === 'dropped') {
    closeWithoutAnswer(ctx);
    deps.alerts?.raise('spool', 'ingest', 'callbacks can be neither queued nor spooled: check Redis and SPOOL_PATH', { corpId });
    return { ok: true, outcome: 'dropped' };
  }
  ctx.status = 200;
  ctx.body = '';
  return { ok: true, outcome: accepted };
}

/** Alerts on what suggests misconfiguration rather than a scanner. */
function noteRejection(rejection: Rejection, corpId: string, corp: Corp | undefined, deps: CallbackRouteDeps): void {
  if (!corp || !deps.alerts) return;
  if (rejection.outcome === 'bad_signature') {
    deps.alerts.count('callback_signature', corpId, 5, 5 * 60_000, `callbacks for corp ${corpId} fail signature checks: check its callback Token and EncodingAESKey (npm run corp -- update)`);
  } else if (rejection.outcome === 'stale_timestamp') {
    deps.alerts.raise('clock_skew', corpId, `validly signed callbacks for corp ${corpId} are outside the timestamp window: check this host's clock (NTP)`, { reason: rejection.reason });
  }
}

function refuse(ctx: Context, rejection: Rejection, endpoint: CallbackEndpoint, corpId: string, deps: CallbackRouteDeps): void {
  ctx.status = rejection.status;
  ctx.body = { error: { code: rejection.outcome, message: messageFor(rejection) } };
  (ctx.state.log ?? deps.logger).warn({ corpId: safeId(corpId), endpoint, status: rejection.status, reason: rejection.reason }, 'callback refused');
}

function messageFor(rejection: Rejection): string {
  switch (rejection.status) {
    case 404: return 'no enabled corp with this id for this endpoint';
    case 401: return 'callback could not be authenticated';
    case 405: return 'use GET (URL verification) or POST (events)';
    case 413: return 'body over 64 KB';
    case 415: return 'unsupported content encoding';
    default: return 'malformed callback';
  }
}

function closeWithoutAnswer(ctx: Context): void {
  ctx.respond = false;
  ctx.req.socket.destroy();
}

function safeId(value: string): string {
  return value.slice(0, 64);
}
