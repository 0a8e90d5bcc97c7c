import type { CallbackCredentials, Corp } from '../domain/corps/corp.types.js';
import type { Alerter } from '../infra/alerts.js';
import type { Clock } from '../infra/clock.js';
import type { DataCipher } from '../infra/data-crypto.js';
import { parseRawQuery } from './raw-query.js';
import { reject, verifyCallback, type Rejection } from './callback-verifier.js';
import { dedupKeyFor } from './dedup.js';
import { checkInnerXml, extractEncrypt, hasForbiddenDtd } from './envelope.js';
import type { InboundAcceptor } from './inbound-acceptor.js';
import { sealInboundJob } from './inbound-seal.js';
import type { WelcomeLane } from './welcome-lane.js';

/** The two receivers a corp can have (docs/architecture.md §3): its app, and the contact-sync assistant. */
export type CallbackEndpoint = 'callback' | 'contact-sync';

/** One callback as the transport received it: nothing in it is trusted yet. */
export interface CallbackRequest {
  endpoint: CallbackEndpoint;
  /** The corp id from the path, decoded. */
  corpId: string;
  /** The raw query string (after the first `?`), still percent-encoded. */
  querystring: string;
  /** The event body (POST, already read within the body limit); undefined for URL verification (GET). */
  body: Buffer | undefined;
}

/**
 * What became of a callback: `accepted` (queued) or `spooled` — both durable, answer 200;
 * `verified` — URL verification passed, answer `echo` as text; `dropped` — neither queue nor spool
 * took it, answer nothing so WeCom retries (docs/wecom.md §1.6); refused — `rejection` says why.
 */
export type CallbackResult =
  | { ok: true; outcome: 'accepted' | 'spooled' | 'dropped' }
  | { ok: true; outcome: 'verified'; echo: string }
  | { ok: false; rejection: Rejection };

export interface CallbackReceiverDeps {
  corps: { get(corpId: string): Corp | undefined };
  acceptor: InboundAcceptor;
  /** Seals the decrypted XML into the job (inbound-seal.ts). */
  cipher: DataCipher;
  clock: Clock;
  /** ±seconds accepted around now; 0 disables (CALLBACK_TIMESTAMP_WINDOW_S). */
  timestampWindowS: number;
  alerts?: Alerter;
  /** Enqueues the welcome of an add event straight away (welcome-lane.ts). */
  welcomeLane?: WelcomeLane;
}

// Shared results: the hot path allocates no result object per callback.
const ACCEPTED: CallbackResult = Object.freeze({ ok: true, outcome: 'accepted' });
const SPOOLED: CallbackResult = Object.freeze({ ok: true, outcome: 'spooled' });
const DROPPED: CallbackResult = Object.freeze({ ok: true, outcome: 'dropped' });

/**
 * The transport-free callback pipeline (docs/architecture.md §3 steps 2–9): for an event, the
 * corp's credentials, signature, decryption, receive id and timestamp (callback-verifier.ts), the
 * decrypted XML's sanity, the de-duplication key, the welcome lane and the queue-or-spool
 * acceptor; for a URL verification (no body), the signed echostr. Never throws for bad input:
 * every refusal is a `Rejection`. An HTTP adapter (src/routes/callback.routes.ts) reads the body
 * and maps the result to a status.
 */
export function receiveCallback(
  deps: CallbackReceiverDeps,
  request: CallbackRequest,
): Promise<CallbackResult> | CallbackResult {
  const corp = deps.corps.get(request.corpId);
  const creds = credentialsOf(corp, request.endpoint);
  if (!creds)
    return reject(
      404,
      'unknown_corp',
      corp ? `corp disabled or has no ${request.endpoint} credentials` : 'unknown corp',
    );
  const query = parseRawQuery(request.querystring);
  if (!query) return reject(400, 'bad_encoding', 'malformed query string');
  return request.body === undefined
    ? verifyUrl(deps, request.corpId, corp, creds, query)
    : receiveEvent(deps, request.corpId, corp, creds, query, request.body);
}

function credentialsOf(corp: Corp | undefined, endpoint: CallbackEndpoint): CallbackCredentials | undefined {
  if (!corp?.enabled) return undefined;
  return endpoint === 'callback' ? corp.callback : corp.contactSync;
}

/** URL verification (docs/wecom.md §1.3): the decrypted echostr, to be answered exactly. */
function verifyUrl(
  deps: CallbackReceiverDeps,
  corpId: string,
  corp: Corp | undefined,
  creds: CallbackCredentials,
  query: Record<string, string>,
): CallbackResult {
  const echostr = query.echostr;
  if (!echostr) return reject(400, 'malformed', 'missing echostr');
  const verified = verifyCallback(creds, corpId, query, echostr, 0, 0);
  if (!verified.ok) {
    noteRejection(verified.rejection, corpId, corp, deps);
    return verified;
  }
  return { ok: true, outcome: 'verified', echo: verified.message };
}

/** Event delivery (docs/wecom.md §1.4, docs/architecture.md §3 steps 2–9). */
function receiveEvent(
  deps: CallbackReceiverDeps,
  corpId: string,
  corp: Corp | undefined,
  creds: CallbackCredentials,
  query: Record<string, string>,
  body: Buffer,
): Promise<CallbackResult> | CallbackResult {
  const envelope = extractEncrypt(body.toString('utf8'));
  if (!envelope.ok)
    return reject(
      400,
      envelope.reason === 'forbidden_dtd' ? 'forbidden_dtd' : 'malformed',
      `envelope: ${envelope.reason}`,
    );
  const nowMs = deps.clock.nowMs();
  const verified = verifyCallback(
    creds,
    corpId,
    query,
    envelope.encrypt,
    Math.floor(nowMs / 1000),
    deps.timestampWindowS,
  );
  if (!verified.ok) {
    noteRejection(verified.rejection, corpId, corp, deps);
    return verified;
  }
  const xml = verified.message;
  const problem = checkInnerXml(xml);
  if (problem)
    return reject(400, hasForbiddenDtd(xml) ? 'forbidden_dtd' : 'malformed', `decrypted message: ${problem}`);
  return accept(deps, corpId, xml, nowMs);
}

async function accept(deps: CallbackReceiverDeps, corpId: string, xml: string, nowMs: number): Promise<CallbackResult> {
  const key = dedupKeyFor(corpId, xml);
  // An add's welcome job goes out with the inbound job, written just before it (welcome-lane.ts).
  const welcome = deps.welcomeLane?.writeFor(corpId, xml, nowMs);
  const accepted = await deps.acceptor.accept(key, sealInboundJob(deps.cipher, key, corpId, nowMs, xml), welcome);
  if (accepted === 'accepted') return ACCEPTED;
  if (accepted === 'spooled') return SPOOLED;
  deps.alerts?.raise('spool', 'ingest', 'callbacks can be neither queued nor spooled: check Redis and SPOOL_PATH', {
    corpId,
  });
  return DROPPED;
}

/** Alerts on what suggests misconfiguration rather than a scanner. */
function noteRejection(rejection: Rejection, corpId: string, corp: Corp | undefined, deps: CallbackReceiverDeps): void {
  if (!corp || !deps.alerts) return;
  if (rejection.outcome === 'bad_signature') {
    deps.alerts.count(
      'callback_signature',
      corpId,
      5,
      5 * 60_000,
      `callbacks for corp ${corpId} fail signature checks: check its callback Token and EncodingAESKey (npm run corp -- update)`,
    );
  } else if (rejection.outcome === 'stale_timestamp') {
    deps.alerts.raise(
      'clock_skew',
      corpId,
      `validly signed callbacks for corp ${corpId} are outside the timestamp window: check this host's clock (NTP)`,
      { reason: rejection.reason },
    );
  }
}
