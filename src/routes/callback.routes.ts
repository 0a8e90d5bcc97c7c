import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Corp, CallbackCredentials } from '../domain/corps/corp.types.js';
import { dedupKeyFor } from '../ingest/dedup.js';
import { checkInnerXml, extractEncrypt, hasForbiddenDtd } from '../ingest/envelope.js';
import type { InboundAcceptor } from '../ingest/inbound-acceptor.js';
import { sealInboundJob } from '../ingest/inbound-seal.js';
import type { WelcomeLane } from '../ingest/welcome-lane.js';
import { reject, verifyCallback, type Rejection } from '../ingest/callback-verifier.js';
import type { Alerter } from '../infra/alerts.js';
import type { Clock } from '../infra/clock.js';
import type { DataCipher } from '../infra/data-crypto.js';
import type { Logger } from '../infra/logger.js';
import type { CallbackOutcome, Metrics } from '../infra/metrics.js';
import { parseRawQuery, readRawBody } from '../middlewares/raw-body.js';
import { requestIdFrom } from '../middlewares/request-id.js';
import type { FrontRoute } from '../app.js';

/** The two receivers a corp can have (docs/architecture.md §3): its app, and the contact-sync assistant. */
export type CallbackEndpoint = 'callback' | 'contact-sync';

export interface CallbackRouteDeps {
  corps: { get(corpId: string): Corp | undefined };
  acceptor: InboundAcceptor;
  /** Seals the decrypted XML into the job (inbound-seal.ts). */
  cipher: DataCipher;
  metrics: Metrics;
  clock: Clock;
  logger: Logger;
  /** ±seconds accepted around now; 0 disables (CALLBACK_TIMESTAMP_WINDOW_S). */
  timestampWindowS: number;
  alerts?: Alerter;
  /** Enqueues the welcome of an add event straight away (src/ingest/welcome-lane.ts). */
  welcomeLane?: WelcomeLane;
  /** Body limit in bytes (64 KB, docs/architecture.md §3 step 1). */
  bodyLimit?: number;
}

const BODY_LIMIT = 64 * 1024;

/**
 * The two paths as @koa/router (path-to-regexp 8, defaults) matched `/wecom/<endpoint>/:corpId`
 * when the route was a Router: any method, case-insensitive, one optional trailing slash, the id
 * one non-empty segment. Tested against the raw request target (origin form, as WeCom sends it).
 */
const CALLBACK_PATH_RE = /^\/wecom\/(callback|contact-sync)\/([^/?#]+)\/?(?:\?|$)/i;

/** What a 200 for an event carries: nothing (WeCom reads only the status; docs/wecom.md §1.4). */
const EMPTY_200: OutgoingHttpHeaders = { 'Content-Length': '0' };

/**
 * `GET|POST /wecom/callback/:corpId` and `/wecom/contact-sync/:corpId` (docs/architecture.md §3,
 * docs/wecom.md §1.3–1.5). Verifies, de-duplicates, makes durable and answers; parses nothing beyond what the
 * de-duplication key needs. Bad input is a 4xx, never a 500; when the event can be made durable
 * nowhere the connection is closed without an answer so WeCom retries.
 *
 * A front route of the web server (src/app.ts `createWebServer`): served on Node's request and
 * response ahead of the Koa app, because this is the web process's only hot path and Koa's
 * context, middleware chain and response handling were about a third of its CPU in the ingest
 * bench. What the Koa middlewares give other routes is done here directly: a request id (the
 * caller's safe X-Request-Id or a new one) on refusals and in their log line, and no error ever
 * escaping as a 500.
 */
export function createCallbackRoute(deps: CallbackRouteDeps): FrontRoute {
  // Labelled once: prom-client hashes the label set on every labels() call.
  const ack: Record<CallbackEndpoint, Observer> = { callback: deps.metrics.ackSeconds.labels('callback'), 'contact-sync': deps.metrics.ackSeconds.labels('contact-sync') };
  return function callbackRoute(req, res) {
    const match = CALLBACK_PATH_RE.exec(req.url ?? '');
    if (!match) return false;
    const endpoint: CallbackEndpoint = (match[1] as string).toLowerCase() === 'callback' ? 'callback' : 'contact-sync';
    void handle(req, res, endpoint, decodeParam(match[2] as string), deps, ack[endpoint]);
    return true;
  };
}

interface Observer {
  observe(value: number): void;
}

/** @koa/router's decoding of a path parameter: the raw text when it is not valid percent-encoding. */
function decodeParam(raw: string): string {
  if (!raw.includes('%')) return raw;
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

/** Per request: the parts of it the handlers read. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  endpoint: CallbackEndpoint;
  corpId: string;
  corp: Corp | undefined;
  /** The raw query string (after the first `?`). */
  querystring: string;
}

type HandleResult = { ok: true; outcome: CallbackOutcome; text?: string } | { ok: false; rejection: Rejection; closeAfter?: boolean };

async function handle(req: IncomingMessage, res: ServerResponse, endpoint: CallbackEndpoint, corpId: string, deps: CallbackRouteDeps, ack: Observer): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  const corp = deps.corps.get(corpId);
  const ex: Exchange = { req, res, endpoint, corpId, corp, querystring: queryAt < 0 ? '' : url.slice(queryAt + 1) };
  let outcome: CallbackOutcome;
  try {
    const method = req.method;
    const result: HandleResult = method === 'POST' ? await ingest(ex, deps) : method === 'GET' || method === 'HEAD' ? verifyUrl(ex, deps) : reject(405, 'malformed', `method ${method} not allowed`);
    if (!result.ok) {
      outcome = result.rejection.outcome;
      refuse(ex, result.rejection, deps, result.closeAfter === true);
    } else if (result.outcome === 'dropped') {
      outcome = 'dropped';
    } else {
      outcome = result.outcome;
      if (result.text === undefined) res.writeHead(200, EMPTY_200).end();
      else res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(result.text) }).end(result.text);
    }
  } catch (err) {
    // A bug, not bad input: no 500 (WeCom might drop the event); close so WeCom retries.
    outcome = 'dropped';
    deps.logger.error({ err, reqId: requestIdFrom(req.headers['x-request-id']), corpId: safeId(corpId), endpoint }, 'callback handler failed; closing the connection');
    closeWithoutAnswer(req);
  }
  deps.metrics.countCallback(corp ? corpId : 'unknown', endpoint, outcome);
  ack.observe((performance.now() - started) / 1000);
}

/** URL verification (docs/wecom.md §1.3): answer exactly the decrypted echostr as text/plain. */
function verifyUrl(ex: Exchange, deps: CallbackRouteDeps): HandleResult {
  const { endpoint, corpId, corp } = ex;
  const creds = credentialsOf(corp, endpoint);
  if (!creds) return reject(404, 'unknown_corp', corp ? `corp disabled or has no ${endpoint} credentials` : 'unknown corp');
  const query = parseRawQuery(ex.querystring);
  if (!query) return reject(400, 'bad_encoding', 'malformed query string');
  const echostr = query.echostr;
  if (!echostr) return reject(400, 'malformed', 'missing echostr');
  const verified = verifyCallback(creds, corpId, query, echostr, 0, 0);
  if (!verified.ok) {
    noteRejection(verified.rejection, corpId, corp, deps);
    return verified;
  }
  return { ok: true, outcome: 'verified', text: verified.message };
}

/** Event delivery (docs/wecom.md §1.4, docs/architecture.md §3 steps 1–9). */
async function ingest(ex: Exchange, deps: CallbackRouteDeps): Promise<HandleResult> {
  const { req, endpoint, corpId, corp } = ex;
  const encoding = req.headers['content-encoding'];
  const read = await readRawBody(req, deps.bodyLimit ?? BODY_LIMIT);
  if (!read.ok) {
    return { ...reject(read.status, read.status === 413 ? 'too_large' : 'malformed', read.reason === 'too_large' ? 'body over the limit' : 'body not received'), closeAfter: read.destroy };
  }
  if (encoding && encoding.toLowerCase() !== 'identity') return reject(415, 'bad_encoding', 'compressed bodies are not accepted');
  const creds = credentialsOf(corp, endpoint);
  if (!creds) return reject(404, 'unknown_corp', corp ? `corp disabled or has no ${endpoint} credentials` : 'unknown corp');
  const query = parseRawQuery(ex.querystring);
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
  const [accepted] = await Promise.all([deps.acceptor.accept(key, sealInboundJob(deps.cipher, key, corpId, nowMs, xml)), deps.welcomeLane?.offer(corpId, xml, nowMs)]);
  if (accepted === 'dropped') {
    closeWithoutAnswer(req);
    deps.alerts?.raise('spool', 'ingest', 'callbacks can be neither queued nor spooled: check Redis and SPOOL_PATH', { corpId });
  }
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

/** A 4xx with a JSON error a person can act on, and one log line with the reason (never body content). */
function refuse(ex: Exchange, rejection: Rejection, deps: CallbackRouteDeps, closeAfter: boolean): void {
  const reqId = requestIdFrom(ex.req.headers['x-request-id']);
  const body = JSON.stringify({ error: { code: rejection.outcome, message: messageFor(rejection) } });
  const headers: OutgoingHttpHeaders = { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), 'X-Request-Id': reqId };
  if (rejection.status === 405) headers.Allow = 'GET, HEAD, POST';
  if (closeAfter) headers.Connection = 'close';
  ex.res.writeHead(rejection.status, headers).end(body);
  deps.logger.warn({ reqId, corpId: safeId(ex.corpId), endpoint: ex.endpoint, status: rejection.status, reason: rejection.reason }, 'callback refused');
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

function closeWithoutAnswer(req: IncomingMessage): void {
  req.socket.destroy();
}

function safeId(value: string): string {
  return value.slice(0, 64);
}
