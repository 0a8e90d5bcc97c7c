import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { ApiTokenModel } from '../../domain/auth/api-token.model.js';
import { CorpModel } from '../../domain/corps/corp.model.js';
import { BOOTSTRAP, CORP_A, CORP_B, bearer, useApiHarness } from './api.test-support.js';

const h = useApiHarness('corp-settings');
const as = bearer;
const api = () => request(h.app.callback());

describe('corp settings API', () => {
  it('shows a dealer admin their corp with defaults filled in and secrets only as set / not set', async () => {
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    const res = await api().get(`/api/v1/corps/${CORP_A}/settings`).set(as(dealerA)).expect(200);
    expect(res.body).toMatchObject({
      corpId: CORP_A,
      agentId: 1000002,
      timezone: 'Asia/Shanghai',
      enabled: true,
      secrets: { secret: true, callbackToken: true, callbackAesKey: true, contactSync: false },
      tasks: { workingHours: { start: '08:30', end: '20:00' }, quietHours: { start: '21:00', end: '09:00' } },
      retention: { deliveryStatePrefixes: ['delivery'], ownerTagNames: ['已购车'] },
      consoleRoles: { admins: [], dealerAdmins: [], marketing: [] },
    });
    expect(JSON.stringify(res.body)).not.toMatch(/s3cret|Token1|aaaaaaaaaa|Sealed/);
  });

  it('keeps a dealer admin inside their corp: another corp is 404 to read and 403 to change', async () => {
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    await api().get(`/api/v1/corps/${CORP_B}/settings`).set(as(dealerA)).expect(404);
    const write = await api()
      .patch(`/api/v1/corps/${CORP_B}/settings`)
      .set(as(dealerA))
      .send({ displayName: '越权' })
      .expect(403);
    expect(write.body.error.code).toBe('corp_forbidden');
    expect((await CorpModel.findOne({ corpId: CORP_B }).lean())?.displayName).toBe(CORP_B);
    for (const role of ['marketing', 'manager', 'advisor', 'integration'] as const) {
      const t = await h.token(role, [CORP_A], role === 'manager' || role === 'advisor' ? 'zhangwei' : undefined);
      await api().get(`/api/v1/corps/${CORP_A}/settings`).set(as(t)).expect(403);
    }
  });

  it('saves working hours, quiet hours, delivery channels, owner tags and roles; a replaced secret is sealed, audited by field name only', async () => {
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    const current = (await api().get(`/api/v1/corps/${CORP_A}/settings`).set(as(dealerA)).expect(200)).body;
    const res = await api()
      .patch(`/api/v1/corps/${CORP_A}/settings`)
      .set(as(dealerA))
      .send({
        displayName: '城南店',
        timezone: 'Asia/Urumqi',
        secret: 'replaced-app-secret',
        tasks: {
          ...current.tasks,
          workingHours: { start: '09:00', end: '18:30' },
          quietHours: { start: '20:30', end: '08:30' },
        },
        retention: {
          ...current.retention,
          deliveryStatePrefixes: ['delivery', 'jiaoche'],
          ownerTagNames: ['已购车', '已提车'],
        },
        consoleRoles: { admins: [], dealerAdmins: ['liuyang'], marketing: ['lina'] },
      })
      .expect(200);
    expect(res.body).toMatchObject({
      displayName: '城南店',
      timezone: 'Asia/Urumqi',
      tasks: { workingHours: { start: '09:00', end: '18:30' }, quietHours: { start: '20:30', end: '08:30' } },
      retention: { deliveryStatePrefixes: ['delivery', 'jiaoche'], ownerTagNames: ['已购车', '已提车'] },
      consoleRoles: { dealerAdmins: ['liuyang'], marketing: ['lina'] },
    });
    expect(JSON.stringify(res.body)).not.toContain('replaced-app-secret');
    const off = await api()
      .patch(`/api/v1/corps/${CORP_A}/settings`)
      .set(as(dealerA))
      .send({ tasks: { ...res.body.tasks, quietHours: null } })
      .expect(200);
    expect(off.body.tasks.quietHours).toBeNull();
    const stored = await CorpModel.findOne({ corpId: CORP_A }).lean();
    expect(stored?.secretSealed).not.toContain('replaced-app-secret');
    const audit = await AuditEntryModel.findOne({ action: 'corp.settings_update', 'target.corpId': CORP_A }).lean();
    expect(audit?.detail).toMatchObject({ fields: expect.arrayContaining(['secret', 'tasks', 'consoleRoles']) });
    expect(JSON.stringify(audit)).not.toContain('replaced-app-secret');
  });

  it('answers bad input with 422 problems at the field they concern', async () => {
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    const res = await api()
      .patch(`/api/v1/corps/${CORP_A}/settings`)
      .set(as(dealerA))
      .send({
        timezone: 'Mars/Olympus',
        tasks: { workingHours: { start: '25:00', end: '18:00' }, quietHours: { start: '21:00', end: '9' } },
        callbackAesKey: 'short',
        kind: 'oem',
      })
      .expect(422);
    const problems = res.body.error.details as Array<{ path: string; message: string }>;
    expect(problems).toEqual(
      expect.arrayContaining([
        { path: '/timezone', message: 'must be an IANA time zone such as Asia/Shanghai' },
        { path: '/tasks/workingHours/start', message: 'use a 24-hour local time like 08:30' },
        { path: '/tasks/quietHours/end', message: 'use a 24-hour local time like 08:30' },
        { path: '/callbackAesKey', message: 'EncodingAESKey must be exactly 43 letters or digits' },
        { path: '/', message: 'unknown field kind' },
      ]),
    );
    await api().patch('/api/v1/corps/not a corp/settings').set(as(BOOTSTRAP)).send({}).expect(422);
    await api().get('/api/v1/corps/wwNoSuchCorp/settings').set(as(BOOTSTRAP)).expect(404);
  });

  it('leaves switching a corp off and granting the admin role to operator admins', async () => {
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    const off = await api()
      .patch(`/api/v1/corps/${CORP_A}/settings`)
      .set(as(dealerA))
      .send({ enabled: false })
      .expect(403);
    expect(off.body.error.code).toBe('field_forbidden');
    await api()
      .patch(`/api/v1/corps/${CORP_A}/settings`)
      .set(as(dealerA))
      .send({ consoleRoles: { admins: ['liuyang'], dealerAdmins: [], marketing: [] } })
      .expect(403);
    const admin = await api()
      .patch(`/api/v1/corps/${CORP_B}/settings`)
      .set(as(BOOTSTRAP))
      .send({ enabled: false, consoleRoles: { admins: ['ops1'], dealerAdmins: [], marketing: [] } })
      .expect(200);
    expect(admin.body).toMatchObject({ enabled: false, consoleRoles: { admins: ['ops1'] } });
  });
});

describe('API tokens API', () => {
  it('creates a token shown once, lists it without secret or hash, and revokes it', async () => {
    const created = await api()
      .post('/api/v1/tokens')
      .set(as(BOOTSTRAP))
      .send({ role: 'integration', corps: [CORP_A], label: 'DMS 导入' })
      .expect(201);
    expect(created.body.token).toMatch(/^scrm_[a-z0-9]{12}_/);
    await api().get('/api/v1/rules').set(as(created.body.token)).expect(403); // a working token, of a role without rules access
    const listed = await api().get('/api/v1/tokens').set(as(BOOTSTRAP)).expect(200);
    const mine = (listed.body.tokens as Array<{ tokenId: string; label?: string }>).find(
      (t) => t.tokenId === created.body.tokenId,
    );
    expect(mine).toMatchObject({ role: 'integration', corps: [CORP_A], label: 'DMS 导入' });
    const stored = await ApiTokenModel.findOne({ tokenId: created.body.tokenId }).lean();
    expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    expect(JSON.stringify(listed.body)).not.toContain(stored?.hash);
    await api().delete(`/api/v1/tokens/${created.body.tokenId}`).set(as(BOOTSTRAP)).expect(204);
    await api().get('/api/v1/rules').set(as(created.body.token)).expect(401);
    await api().delete(`/api/v1/tokens/${created.body.tokenId}`).set(as(BOOTSTRAP)).expect(404);
    const audit = await AuditEntryModel.find({ 'target.id': created.body.tokenId }).lean();
    expect(audit.map((a) => a.action).sort()).toEqual(['token.create', 'token.revoke']);
  });

  it('refuses non-admins and explains bad input', async () => {
    const dealerA = await h.token('dealer_admin', [CORP_A]);
    await api().get('/api/v1/tokens').set(as(dealerA)).expect(403);
    await api()
      .post('/api/v1/tokens')
      .set(as(dealerA))
      .send({ role: 'integration', corps: [CORP_A] })
      .expect(403);
    const bad = await api()
      .post('/api/v1/tokens')
      .set(as(BOOTSTRAP))
      .send({ role: 'manager', corps: [CORP_A] })
      .expect(422);
    expect(bad.body.error.details).toEqual([
      { path: '/userid', message: expect.stringContaining('manager tokens need') },
    ]);
    const unknown = await api()
      .post('/api/v1/tokens')
      .set(as(BOOTSTRAP))
      .send({ role: 'marketing', corps: ['wwNoSuchCorp'] })
      .expect(422);
    expect(unknown.body.error.details).toEqual([{ path: '/corps/0', message: 'no corp wwNoSuchCorp' }]);
    const role = await api().post('/api/v1/tokens').set(as(BOOTSTRAP)).send({ role: 'king' }).expect(422);
    expect(role.body.error.details[0].path).toBe('/role');
  });
});
