import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { reject, type Rejection } from '../ingest/callback-verifier.js';
import {
  receiveCallback,
  type CallbackEndpoint,
  type CallbackReceiverDeps,
  type CallbackResult,
} from '../ingest/receive-callback.js';
import type { Logger } from '../infra/logger.js';
import type { CallbackOutcome, Metrics } from '../infra/metrics.js';
import { readRawBody } from '../middlewares/raw-body.js';
import { requestIdFrom } from '../middlewares/request-id.js';
import type { FrontRoute } from '../app.js';

/** What the receiver needs (src/ingest/receive-callback.ts) plus the adapter's own metrics, logger and body limit. */
export interface CallbackRouteDeps extends CallbackReceiverDeps {
  metrics: Metrics;
  logger: Logger;
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
 * docs/wecom.md §1.3–1.5): the Node adapter of receiveCallback (src/ingest/receive-callback.ts),
 * which verifies, de-duplicates and makes durable. This file matches the path, reads the body and
 * maps the result to an answer: 200 (empty, or the echostr), a 4xx with a request id, or — when
 * the event can be made durable nowhere — a closed connection without an answer so WeCom retries.
 * Bad input is a 4xx, never a 500.
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
  const ack: Record<CallbackEndpoint, Observer> = {
    callback: deps.metrics.ackSeconds.labels('callback'),
    'contact-sync': deps.metrics.ackSeconds.labels('contact-sync'),
  };
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

/** Per request: the parts of it the refusal and its log line read. */
interface Exchange {
  req: IncomingMessage;
  res: ServerResponse;
  endpoint: CallbackEndpoint;
  corpId: string;
}

/** A refusal of the transport (method, body), before the receiver sees the callback. */
type RouteRefusal = { ok: false; rejection: Rejection; closeAfter?: boolean };

/**
 * The HTTP side of a callback: the method, the body (limit enforced while reading,
 * docs/architecture.md §3 step 1) and its encoding; the rest is receiveCallback's
 * (src/ingest/receive-callback.ts). Written as one async function on purpose: no extra promise
 * per request on the hot path.
 */
async function handle(
  req: IncomingMessage,
  res: ServerResponse,
  endpoint: CallbackEndpoint,
  corpId: string,
  deps: CallbackRouteDeps,
  ack: Observer,
): Promise<void> {
  const started = performance.now();
  const url = req.url ?? '';
  const queryAt = url.indexOf('?');
  const querystring = queryAt < 0 ? '' : url.slice(queryAt + 1);
  let outcome: CallbackOutcome;
  try {
    const method = req.method;
    let result: CallbackResult | RouteRefusal;
    if (method === 'POST') {
      const encoding = req.headers['content-encoding'];
      const read = await readRawBody(req, deps.bodyLimit ?? BODY_LIMIT);
      if (!read.ok) {
        result = {
          ...reject(
            read.status,
            read.status === 413 ? 'too_large' : 'malformed',
            read.reason === 'too_large' ? 'body over the limit' : 'body not received',
          ),
          closeAfter: read.destroy,
        };
      } else if (encoding && encoding.toLowerCase() !== 'identity') {
        result = reject(415, 'bad_encoding', 'compressed bodies are not accepted');
      } else {
        result = await receiveCallback(deps, { endpoint, corpId, querystring, body: read.body });
      }
    } else if (method === 'GET' || method === 'HEAD') {
      result = await receiveCallback(deps, { endpoint, corpId, querystring, body: undefined });
    } else {
      result = reject(405, 'malformed', `method ${method} not allowed`);
    }
    if (!result.ok) {
      outcome = result.rejection.outcome;
      refuse(
        { req, res, endpoint, corpId },
        result.rejection,
        deps,
        'closeAfter' in result && result.closeAfter === true,
      );
    } else if (result.outcome === 'dropped') {
      // Durable nowhere: no answer, so WeCom retries (docs/wecom.md §1.6).
      outcome = 'dropped';
      closeWithoutAnswer(req);
    } else if (result.outcome === 'verified') {
      outcome = 'verified';
      res
        .writeHead(200, {
          'Content-Type': 'text/plain; charset=utf-8',
          'Content-Length': Buffer.byteLength(result.echo),
        })
        .end(result.echo);
    } else {
      outcome = result.outcome;
      res.writeHead(200, EMPTY_200).end();
    }
  } catch (err) {
    // A bug, not bad input: no 500 (WeCom might drop the event); close so WeCom retries.
    outcome = 'dropped';
    deps.logger.error(
      { err, reqId: requestIdFrom(req.headers['x-request-id']), corpId: safeId(corpId), endpoint },
      'callback handler failed; closing the connection',
    );
    closeWithoutAnswer(req);
  }
  deps.metrics.countCallback(deps.corps.get(corpId) ? corpId : 'unknown', endpoint, outcome);
  ack.observe((performance.now() - started) / 1000);
}

/** A 4xx with a JSON error a person can act on, and one log line with the reason (never body content). */
function refuse(ex: Exchange, rejection: Rejection, deps: CallbackRouteDeps, closeAfter: boolean): void {
  const reqId = requestIdFrom(ex.req.headers['x-request-id']);
  const body = JSON.stringify({ error: { code: rejection.outcome, message: messageFor(rejection) } });
  const headers: OutgoingHttpHeaders = {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(body),
    'X-Request-Id': reqId,
  };
  if (rejection.status === 405) headers.Allow = 'GET, HEAD, POST';
  if (closeAfter) headers.Connection = 'close';
  ex.res.writeHead(rejection.status, headers).end(body);
  deps.logger.warn(
    { reqId, corpId: safeId(ex.corpId), endpoint: ex.endpoint, status: rejection.status, reason: rejection.reason },
    'callback refused',
  );
}

function messageFor(rejection: Rejection): string {
  switch (rejection.status) {
    case 404:
      return 'no enabled corp with this id for this endpoint';
    case 401:
      return 'callback could not be authenticated';
    case 405:
      return 'use GET (URL verification) or POST (events)';
    case 413:
      return 'body over 64 KB';
    case 415:
      return 'unsupported content encoding';
    default:
      return 'malformed callback';
  }
}

function closeWithoutAnswer(req: IncomingMessage): void {
  req.socket.destroy();
}

function safeId(value: string): string {
  return value.slice(0, 64);
}
