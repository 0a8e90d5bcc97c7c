import { describe, expect, it } from 'vitest';
import { DEMO_CORP_ID } from '../../scripts/wecom-sandbox/world/demo-seed.js';
import { useTokenChildren } from './token-children.test-support.js';

const t = useTokenChildren('wecom-ticket');

describe('JS-SDK tickets shared by 4 processes', () => {
  it('fetches each ticket exactly once per expiry, within WeCom hourly limits', async () => {
    for (const kind of ['corp', 'agent']) {
      expect(await t.everyChild({ op: 'tickets', kind, n: 5 })).toEqual(t.children.map(() => ({ distinct: 1 })));
    }
    expect(t.fetches('get_jsapi_ticket')).toBe(1);
    expect(t.fetches('ticket/get')).toBe(1);
    expect(t.sandbox.context.calls.list({ endpoint: 'ticket/get' })[0]?.query).toMatchObject({ type: 'agent_config' });

    // The tickets are cached in Redis sealed, never in clear.
    const ticket = t.sandbox.context.tickets.valid(
      DEMO_CORP_ID,
      t.sandbox.context.world.corp(DEMO_CORP_ID)!.agentId,
      'corp',
    );
    expect(ticket).toBeTruthy();
    for (const key of await t.redis.keys(`${t.prefix}:wecom:*ticket*`))
      expect(await t.redis.get(key)).not.toContain(ticket);

    // Two hours later on the shared clock: both tickets expired, one fetch each for everyone.
    await t.advance(2 * 3600_000 + 5000);
    for (const kind of ['corp', 'agent']) {
      expect(await t.everyChild({ op: 'tickets', kind, n: 3 })).toEqual(t.children.map(() => ({ distinct: 1 })));
    }
    expect(t.fetches('get_jsapi_ticket')).toBe(2);
    expect(t.fetches('ticket/get')).toBe(2);
  }, 60_000);

  it('the sandbox refuses ticket fetches past the hourly limit with 45009, like WeCom', async () => {
    const corp = t.sandbox.context.world.corp(DEMO_CORP_ID)!;
    t.sandbox.context.tickets.limits.agent = t.sandbox.context.tickets.fetchCount(DEMO_CORP_ID, 'agent');
    const token = t.sandbox.context.tokens.issue(DEMO_CORP_ID).token;
    const res = await fetch(`${t.sandbox.url}/cgi-bin/ticket/get?access_token=${token}&type=agent_config`);
    expect(await res.json()).toMatchObject({ errcode: 45009 });
    const wrongType = await fetch(`${t.sandbox.url}/cgi-bin/ticket/get?access_token=${token}&type=other`);
    expect(await wrongType.json()).toMatchObject({ errcode: 40097 });
    expect(corp.agentId).toBeGreaterThan(0);
  });
});
