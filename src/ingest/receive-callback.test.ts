import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../infra/clock.js';
import { DataCipher } from '../infra/data-crypto.js';
import { makeCorp } from '../testing/callback-app.js';
import { buildCallbackEnvelope, encryptCallback, signCallback } from '../wecom/callback-crypto.js';
import type { AcceptOutcome, InboundAcceptor } from './inbound-acceptor.js';
import { openInboundXml } from './inbound-seal.js';
import { receiveCallback, type CallbackReceiverDeps, type CallbackRequest } from './receive-callback.js';

// The transport-free entry, without HTTP: the route's tests (src/routes/callback.routes.test.ts)
// cover the same pipeline end to end over real Redis.
const corp = makeCorp();
const cipher = new DataCipher(new Map([['k1', randomBytes(32)]]), 'k1');
const xml = `<xml><ToUserName><![CDATA[${corp.corpId}]]></ToUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[del_follow_user]]></ChangeType><UserID><![CDATA[sales.demo]]></UserID><ExternalUserID><![CDATA[wmRECEIVE01]]></ExternalUserID></xml>`;

/** An acceptor that records what it was given and answers `outcome`. */
function recordingAcceptor(outcome: AcceptOutcome) {
  const accepted: Array<{ key: string; corpId: string; xml: string }> = [];
  const acceptor = {
    accept: (key: string, data: { corpId: string; xmlSealed: string }) => {
      accepted.push({ key, corpId: data.corpId, xml: openInboundXml(cipher, key, data) });
      return Promise.resolve(outcome);
    },
  } as unknown as InboundAcceptor;
  return { acceptor, accepted };
}

function depsWith(
  outcome: AcceptOutcome,
  windowS = 300,
): CallbackReceiverDeps & { accepted: Array<{ key: string; corpId: string; xml: string }> } {
  const { acceptor, accepted } = recordingAcceptor(outcome);
  return {
    corps: new Map([[corp.corpId, corp]]),
    acceptor,
    cipher,
    clock: new ManualClock(),
    timestampWindowS: windowS,
    accepted,
  };
}

function eventRequest(extra: { corpId?: string; timestamp?: string } = {}): CallbackRequest {
  const envelope = buildCallbackEnvelope({
    token: corp.callback.token,
    encodingAesKey: corp.callback.encodingAesKey,
    receiveId: corp.corpId,
    innerXml: xml,
    timestamp: extra.timestamp,
  });
  return {
    endpoint: 'callback',
    corpId: extra.corpId ?? corp.corpId,
    querystring: new URLSearchParams(envelope.query).toString(),
    body: Buffer.from(envelope.body),
  };
}

describe('receiveCallback', () => {
  it('hands a verified event to the acceptor once, decrypted and sealed, and reports its outcome', async () => {
    for (const outcome of ['accepted', 'spooled', 'dropped'] as const) {
      const deps = depsWith(outcome);
      const result = await receiveCallback(deps, eventRequest());
      expect(result).toEqual({ ok: true, outcome });
      expect(deps.accepted).toHaveLength(1);
      expect(deps.accepted[0]?.corpId).toBe(corp.corpId);
      expect(deps.accepted[0]?.xml).toBe(xml);
    }
  });

  it('refuses with a reason and accepts nothing: unknown corp, bad signature, stale timestamp, malformed query', async () => {
    const deps = depsWith('accepted');
    const unknown = await receiveCallback(deps, eventRequest({ corpId: 'wwnobody' }));
    expect(unknown).toMatchObject({ ok: false, rejection: { status: 404, outcome: 'unknown_corp' } });
    const tampered = eventRequest();
    tampered.querystring = tampered.querystring.replace(/msg_signature=[0-9a-f]/, 'msg_signature=g');
    expect(await receiveCallback(deps, tampered)).toMatchObject({
      ok: false,
      rejection: { status: 401, outcome: 'bad_signature' },
    });
    const stale = await receiveCallback(
      deps,
      eventRequest({ timestamp: String(Math.floor(Date.now() / 1000) - 3600) }),
    );
    expect(stale).toMatchObject({ ok: false, rejection: { status: 401, outcome: 'stale_timestamp' } });
    expect(await receiveCallback(deps, { ...eventRequest(), querystring: 'nonce=%E0%A4%A' })).toMatchObject({
      ok: false,
      rejection: { outcome: 'bad_encoding' },
    });
    expect(deps.accepted).toHaveLength(0);
  });

  it('answers a URL verification (no body) with the decrypted echostr', async () => {
    const echostr = encryptCallback(corp.callback.encodingAesKey, 'echo-4711', corp.corpId);
    const timestamp = '1700000000';
    const query = new URLSearchParams({
      msg_signature: signCallback(corp.callback.token, timestamp, '7', echostr),
      timestamp,
      nonce: '7',
      echostr,
    });
    const result = await receiveCallback(depsWith('accepted'), {
      endpoint: 'callback',
      corpId: corp.corpId,
      querystring: query.toString(),
      body: undefined,
    });
    expect(result).toEqual({ ok: true, outcome: 'verified', echo: 'echo-4711' });
  });
});
