/**
 * Pre-generated, distinct, validly signed and encrypted WeCom callbacks for the ingest benchmark.
 * Generated outside the measured window so the load generator only copies strings.
 */
import { buildCallbackEnvelope, generateEncodingAesKey } from '../../src/wecom/callback-crypto.js';

export interface BenchCallback {
  path: string;
  body: string;
}

/** The one corp the benchmark server knows (serialised into the child's BENCH_CORP). */
export const benchCorp = {
  corpId: 'wwbench0000000001',
  kind: 'dealer',
  displayName: 'Bench',
  agentId: 1000002,
  secret: 'x',
  callback: { token: 'BenchToken123', encodingAesKey: generateEncodingAesKey() },
  contactSync: undefined,
  timezone: 'Asia/Shanghai',
  enabled: true,
};

let serial = 0;

/**
 * `count` callbacks never generated before in this process (a global serial number goes into
 * the external user id and welcome code), timestamped now so they pass the replay window.
 */
export function generateCallbacks(count: number): BenchCallback[] {
  const out: BenchCallback[] = [];
  const now = Math.floor(Date.now() / 1000);
  const { corpId, callback } = benchCorp;
  for (let i = 0; i < count; i++) {
    const n = serial++;
    const xml = `<xml><ToUserName><![CDATA[${corpId}]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName><CreateTime>${now}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[change_external_contact]]></Event><ChangeType><![CDATA[add_external_contact]]></ChangeType><UserID><![CDATA[sales.alice]]></UserID><ExternalUserID><![CDATA[wmBENCH${n.toString().padStart(24, '0')}]]></ExternalUserID><State><![CDATA[qr7]]></State><WelcomeCode><![CDATA[wc${n}]]></WelcomeCode></xml>`;
    const env = buildCallbackEnvelope({
      token: callback.token,
      encodingAesKey: callback.encodingAesKey,
      receiveId: corpId,
      innerXml: xml,
      timestamp: String(now),
    });
    out.push({ path: `/wecom/callback/${corpId}?${new URLSearchParams(env.query)}`, body: env.body });
  }
  return out;
}
