import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/infra/clock.js';
import { startSandbox, type RunningSandbox } from '../index.js';
import { silentLogger } from '../sandbox.test-support.js';
import { memberLimitRejections } from '../server/member-limits.js';
import { DEMO_CORP_ID, demoScenario } from '../world/demo-seed.js';

// WeCom's app message limits (docs/wecom.md §5) as the sandbox enforces them: a member gets at
// most 30 a minute and 1,000 an hour (the rest is dropped silently, the call succeeds); an app
// sends to at most 200 recipients per account a day (the sandbox answers 45009 beyond).

let sandbox: RunningSandbox;
let token = '';
const clock = new ManualClock(Date.UTC(2026, 11, 7, 2, 0, 0));

async function send(touser: string): Promise<{ errcode: number }> {
  const res = await fetch(`${sandbox.url}/cgi-bin/message/send?access_token=${token}`, {
    method: 'POST',
    body: JSON.stringify({ touser, msgtype: 'text', agentid: 1000002, text: { content: '提醒' } }),
  });
  return (await res.json()) as { errcode: number };
}

async function hits(): Promise<Record<string, number>> {
  const res = await fetch(`${sandbox.url}/__sandbox/limits`);
  return ((await res.json()) as { hits: Record<string, number> }).hits;
}

beforeAll(async () => {
  sandbox = await startSandbox({ clock, logger: silentLogger(), nodeEnv: 'test' });
});

async function newToken(): Promise<void> {
  const secret = demoScenario().corps[0]!.secret;
  const res = await fetch(`${sandbox.url}/cgi-bin/gettoken?corpid=${DEMO_CORP_ID}&corpsecret=${secret}`);
  token = ((await res.json()) as { access_token: string }).access_token;
}

beforeEach(async () => {
  sandbox.world.seed(demoScenario());
  sandbox.context.limits.reset();
  await newToken();
});

afterAll(async () => {
  await sandbox.stop();
});

describe('app message limits', () => {
  it('drops a member’s 31st message of a minute silently, and delivers again the next minute', async () => {
    for (let i = 0; i < 31; i++) expect((await send('zhangwei|lina')).errcode).toBe(0);
    const corp = sandbox.world.corp(DEMO_CORP_ID)!;
    const last = corp.messages.at(-1)!;
    expect(last.touser).toEqual([]);
    expect(last.dropped).toEqual(['zhangwei', 'lina']);
    expect(corp.messages.filter((m) => m.touser.includes('zhangwei'))).toHaveLength(30);
    expect(await hits()).toMatchObject({ memberMinuteDrops: 2, memberHourDrops: 0, rateLimited: 0 });

    clock.advance(60_000);
    expect((await send('zhangwei')).errcode).toBe(0);
    expect(corp.messages.at(-1)!.touser).toEqual(['zhangwei']);
  });

  it('drops beyond 1,000 a member in an hour', async () => {
    await fetch(`${sandbox.url}/__sandbox/limits`, {
      method: 'POST',
      body: JSON.stringify({ appMessagesPerMemberMinute: 1000, appMessagesPerMemberHour: 40 }),
    });
    // Start of a clock hour, so the 41 sends fall in one.
    clock.set(Date.UTC(2026, 11, 7, 3, 0, 0));
    await newToken();
    for (let i = 0; i < 41; i++) expect((await send('zhangwei')).errcode).toBe(0);
    expect(sandbox.world.corp(DEMO_CORP_ID)!.messages.at(-1)!.dropped).toEqual(['zhangwei']);
    expect(await hits()).toMatchObject({ memberHourDrops: 1, memberMinuteDrops: 0 });
  });

  it('refuses with 45009 once the app’s daily recipient quota is used up, until the next day', async () => {
    // Five members in the demo corp: 5 × 2 = 10 recipient-sends a day.
    await fetch(`${sandbox.url}/__sandbox/limits`, {
      method: 'POST',
      body: JSON.stringify({ appMessagesPerAccountDay: 2 }),
    });
    clock.set(Date.UTC(2026, 11, 7, 2, 0, 0)); // 10:00 in Shanghai
    await newToken();
    expect((await send('zhangwei|lina|liuyang|chenjing|wangqiang')).errcode).toBe(0);
    expect((await send('zhangwei|lina|liuyang|chenjing')).errcode).toBe(0);
    expect((await send('zhangwei|lina')).errcode).toBe(45009);
    expect((await send('zhangwei')).errcode).toBe(0);
    expect((await hits()).appDayRefused).toBe(1);
    clock.set(Date.UTC(2026, 11, 7, 16, 0, 0)); // 00:00 the next day in Shanghai
    await newToken(); // the first one expired (7200 s)
    expect((await send('zhangwei|lina')).errcode).toBe(0);
  });

  it('refuses with 45009 beyond the strict per-member limit switched on by POST /__sandbox/limits, and drops again once it is off', async () => {
    const set = async (body: unknown) =>
      fetch(`${sandbox.url}/__sandbox/limits`, { method: 'POST', body: JSON.stringify(body) });
    const on = await set({ strictMemberLimits: { perWindow: 2 } });
    expect(on.status).toBe(200);
    expect(((await on.json()) as { strictMemberLimits: unknown }).strictMemberLimits).toEqual({
      perWindow: 2,
      windowMs: 60_000,
      perHour: 1000,
    });
    expect((await send('lina')).errcode).toBe(0);
    expect((await send('lina')).errcode).toBe(0);
    expect((await send('lina')).errcode).toBe(45009);
    expect((await send('zhangwei')).errcode).toBe(0);
    const corp = sandbox.world.corp(DEMO_CORP_ID)!;
    expect(memberLimitRejections(corp).map((r) => r.userid)).toEqual(['lina']);

    // A patch keeps the fields it does not name; a bad value is a 400 that changes nothing.
    await set({ strictMemberLimits: { perHour: 500 } });
    expect((await set({ strictMemberLimits: { perWindow: 0 } })).status).toBe(400);
    const shown = (await (await fetch(`${sandbox.url}/__sandbox/limits`)).json()) as { strictMemberLimits: unknown };
    expect(shown.strictMemberLimits).toEqual({ perWindow: 2, windowMs: 60_000, perHour: 500 });

    await set({ strictMemberLimits: null });
    expect((await send('lina')).errcode).toBe(0);
    expect(corp.messages.at(-1)!.touser).toEqual(['lina']);
    expect(memberLimitRejections(corp)).toHaveLength(1);
  });
});
