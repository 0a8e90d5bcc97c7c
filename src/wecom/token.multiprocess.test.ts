import { describe, expect, it } from 'vitest';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { useTokenChildren } from './token-children.test-support.js';

const t = useTokenChildren('wecom-token');
/** Every gettoken call, refused ones included (an invalidation is not a refusal of gettoken). */
const gettokenCount = () => t.sandbox.context.calls.list({ endpoint: 'gettoken' }).length;

describe('access token shared by 4 processes', () => {
  it('calls gettoken exactly once per expiry or invalidation', async () => {
    expect(await t.everyChild({ op: 'calls', n: 5 })).toEqual(t.children.map(() => ({ ok: 5 })));
    expect(gettokenCount()).toBe(1);

    // Early invalidation: every process gets 40014 and refreshes; only one calls gettoken.
    t.sandbox.context.tokens.invalidate(DEMO_CORP_ID);
    expect(await t.everyChild({ op: 'calls', n: 5 })).toEqual(t.children.map(() => ({ ok: 5 })));
    expect(gettokenCount()).toBe(2);
    expect(
      t.sandbox.context.calls.list({ endpoint: 'externalcontact/get_follow_user_list', errcode: 40014 }).length,
    ).toBeGreaterThan(0);

    // Expiry on the shared accelerated clock: 2 h later, one refresh for everyone.
    await t.advance(2 * 3600_000 + 5000);
    expect(await t.everyChild({ op: 'calls', n: 5 })).toEqual(t.children.map(() => ({ ok: 5 })));
    expect(gettokenCount()).toBe(3);

    // And once more, invalidated again: still one.
    t.sandbox.context.tokens.invalidate();
    expect(await t.everyChild({ op: 'calls', n: 3 })).toEqual(t.children.map(() => ({ ok: 3 })));
    expect(gettokenCount()).toBe(4);
  }, 60_000);
});
