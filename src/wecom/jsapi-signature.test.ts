import { describe, expect, it } from 'vitest';
import { jsapiSignature, signJsapi, signableUrl } from './jsapi-signature.js';

// WeCom's published example (docs/wecom.md §10.3).
const vector = {
  ticket: 'sM4AOVdWfPE4DxkXGEs8VMCPGGVi4C3VM0P37wVUCFvkVAy_90u5h9nbSlYy3-Sl-HhTdfl2fzFy1AOcHKP7qg',
  nonceStr: 'Wm3WZYTPz0wzccnW',
  timestamp: 1414587457,
  url: 'http://mp.weixin.qq.com?params=value',
};

describe('JS-SDK signature', () => {
  it('matches the published test vector', () => {
    expect(jsapiSignature(vector)).toBe('0f9de62fce790f9a083d5c99e95740ceb90c27ed');
  });

  it('ignores the #fragment of the page URL', () => {
    expect(jsapiSignature({ ...vector, url: `${vector.url}#/sidebar?x=1` })).toBe(
      '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
    );
    expect(signableUrl('https://a.example/console/sidebar?code=1#x')).toBe('https://a.example/console/sidebar?code=1');
  });

  it('changes with any input and signs raw (not URL-encoded) values', () => {
    expect(jsapiSignature({ ...vector, url: 'http://mp.weixin.qq.com?params=value2' })).not.toBe(
      '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
    );
    expect(jsapiSignature({ ...vector, timestamp: vector.timestamp + 1 })).not.toBe(
      '0f9de62fce790f9a083d5c99e95740ceb90c27ed',
    );
  });

  it('signs with a fresh nonce and the timestamp in seconds', () => {
    const a = signJsapi(vector.ticket, vector.url, 1414587457_999);
    const b = signJsapi(vector.ticket, vector.url, 1414587457_999);
    expect(a.timestamp).toBe(1414587457);
    expect(a.nonceStr).toMatch(/^[A-Za-z0-9]{16}$/);
    expect(a.nonceStr).not.toBe(b.nonceStr);
    expect(a.signature).toBe(
      jsapiSignature({ ticket: vector.ticket, nonceStr: a.nonceStr, timestamp: a.timestamp, url: vector.url }),
    );
  });
});
