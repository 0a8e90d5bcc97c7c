import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConsoleRoles } from '../../domain/auth/console-roles.js';
import { SESSION_REVALIDATE_MS } from '../../domain/auth/console-session.js';
import { markAdvisorLeft, upsertAdvisor } from '../../domain/customers/advisor-directory.service.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import type { Corp } from '../../domain/corps/corp.types.js';
import { createLogger } from '../../infra/logger.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CORP_A, startConsoleHarness } from './console.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startConsoleHarness>>;
const logger = createLogger({ level: 'silent', name: 'test' });
/** Past the re-validation window: what a session may still do after a change (at most a minute). */
const later = () => h.clock.advance(SESSION_REVALIDATE_MS + 1);

/** Changes corp A in the harness's corp cache (as a settings change reaches it); returns what it was. */
function setCorpA(patch: Partial<Corp>): Corp {
  const i = h.corps.findIndex((c) => c.corpId === CORP_A);
  const before = h.corps[i];
  if (!before) throw new Error('harness corp A');
  h.corps[i] = { ...before, ...patch };
  return before;
}

async function signIn(userid: string) {
  const agent = request.agent(h.app.callback());
  const login = await agent.get('/console/auth/login').query({ corpId: CORP_A }).expect(302);
  await agent
    .get('/console/auth/callback')
    .query({ code: `ok-${userid}`, state: new URL(login.headers.location ?? '').searchParams.get('state') })
    .expect(302);
  return agent;
}

async function tokenSignIn(token: string) {
  const agent = request.agent(h.app.callback());
  await agent.post('/console/auth/token').send({ token }).expect(200);
  return agent;
}

beforeAll(async () => {
  db = await useTestDatabase('session-rights');
  h = await startConsoleHarness();
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'leader1', departments: [2, 3], leadsDepartments: [2, 3] },
    { corpId: CORP_A, userid: 'leaver1', departments: [2] },
    { corpId: CORP_A, userid: 'mkt2', departments: [2] },
  ]);
});
afterAll(async () => {
  await h?.close();
  await db?.drop();
});

describe('console sessions follow the rights they came from', () => {
  it('regression: revoking the API token a session signed in with ends the session within the window', async () => {
    const created = await h.tokens.create({ role: 'dealer_admin', corps: [CORP_A] });
    const agent = await tokenSignIn(created.token);
    await agent.get('/api/v1/tasks').expect(200);
    await h.tokens.revoke(created.tokenId);
    later();
    const res = await agent.get('/api/v1/tasks').expect(401);
    expect(res.body.error.code).toBe('session_expired');
    await agent.get('/console/auth/me').expect(401);
  });

  it('regression: removing a console role narrows the session to what the member is now', async () => {
    const before = setCorpA({});
    setCorpA({
      consoleRoles: {
        ...defaultConsoleRoles,
        ...before.consoleRoles,
        marketing: [...(before.consoleRoles?.marketing ?? []), 'mkt2'],
      },
    });
    try {
      const agent = await signIn('mkt2');
      expect((await agent.get('/console/auth/me').expect(200)).body.role).toBe('marketing');
      await agent.get('/api/v1/rules').expect(200);
      setCorpA({ consoleRoles: before.consoleRoles });
      later();
      expect((await agent.get('/console/auth/me').expect(200)).body.role).toBe('advisor');
      await agent.get('/api/v1/rules').expect(403);
    } finally {
      setCorpA(before);
    }
  });

  it('regression: a member who left the corp (contact sync) loses the session; a leader who stops leading a department loses it', async () => {
    const deps = { corpId: CORP_A, clock: h.clock, logger, api: undefined as never };
    const leaver = await signIn('leaver1');
    await leaver.get('/api/v1/tasks').expect(200);
    const leader = await signIn('leader1');
    expect((await leader.get('/console/auth/me').expect(200)).body).toMatchObject({
      role: 'manager',
      departments: [2, 3],
    });

    await markAdvisorLeft(deps, 'leaver1');
    await upsertAdvisor(deps, {
      userid: 'leader1',
      name: 'L',
      department: [2, 3],
      is_leader_in_dept: [1, 0],
      status: 1,
    });
    later();
    expect((await leaver.get('/api/v1/tasks').expect(401)).body.error.code).toBe('session_expired');
    expect((await leader.get('/console/auth/me').expect(200)).body).toMatchObject({
      role: 'manager',
      departments: [2],
    });
  });

  it('ends a session whose corp was switched off', async () => {
    const agent = await signIn('leader1');
    const before = setCorpA({ enabled: false });
    try {
      later();
      await agent.get('/console/auth/me').expect(401);
    } finally {
      setCorpA(before);
    }
  });
});
