import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelModel } from '../../domain/acquisition/channel.model.js';
import { LeadModel } from '../../domain/acquisition/lead.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CORP_A, startApiHarness } from './api.test-support.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
const as = (token: string) => ({ Authorization: `Bearer ${token}` });
const api = () => request(h.app.callback());

beforeAll(async () => {
  db = await useTestDatabase('acquisition-routes');
  h = await startApiHarness();
  await AdvisorModel.create({ corpId: CORP_A, userid: 'adv-route-1', name: 'x', departments: [2], status: 'active' });
});
afterAll(async () => {
  await h.close();
  await db.drop();
});

describe('channels and leads API', () => {
  it('creates a channel (pending until the worker syncs) and refuses a bad one with a message', async () => {
    const marketing = await h.token('marketing', [CORP_A]);
    const res = await api()
      .post('/api/v1/channels')
      .set(as(marketing))
      .send({ corpId: CORP_A, name: '车展码', kind: 'team', advisors: ['adv-route-1'] })
      .expect(201);
    expect(res.body).toMatchObject({ kind: 'team', syncState: 'pending' });
    expect(res.body.state.length).toBeLessThanOrEqual(30);
    expect(await ChannelModel.countDocuments({ corpId: CORP_A })).toBe(1);
    const bad = await api()
      .post('/api/v1/channels')
      .set(as(marketing))
      .send({ corpId: CORP_A, name: '个人码', kind: 'personal', advisors: ['a', 'b'] })
      .expect(422);
    expect(JSON.stringify(bad.body)).toMatch(/exactly one advisor/);
  });

  it('takes a batch of leads with per-item results, merging a duplicate and rejecting a bad item', async () => {
    const integration = await h.token('integration', [CORP_A]);
    const res = await api()
      .post('/api/v1/leads')
      .set(as(integration))
      .send({
        corpId: CORP_A,
        leads: [
          { source: 'autohome', mobile: '13900000101', name: '测试' },
          { source: 'dcc', mobile: '139 0000 0101' },
          { source: 'autohome', mobile: '12' },
        ],
      })
      .expect(200);
    expect(res.body.summary).toEqual({ created: 1, merged: 1, rejected: 1 });
    expect(res.body.results[2].problems[0].path).toBe('/leads/2/mobile');
    expect(await LeadModel.countDocuments({ corpId: CORP_A })).toBe(1);
    const none = await api()
      .post('/api/v1/leads')
      .set(as(integration))
      .send({ corpId: CORP_A, source: 'fax' })
      .expect(422);
    expect(none.body.error.code).toBeTruthy();
  });

  it("opens a lead's name and mobile for the dealer's people only, not for marketing or the car maker", async () => {
    const integration = await h.token('integration', [CORP_A]);
    await api()
      .post('/api/v1/leads')
      .set(as(integration))
      .send({ corpId: CORP_A, source: 'dcc', mobile: '13900000202', name: '假名试驾' })
      .expect(200);
    const lead = await LeadModel.findOne({ corpId: CORP_A, source: 'dcc' }).lean();
    const id = String(lead!._id);
    const dealerAdmin = await h.token('dealer_admin', [CORP_A]);
    const own = await api().get(`/api/v1/leads/${id}?corpId=${CORP_A}`).set(as(dealerAdmin)).expect(200);
    expect(own.body).toMatchObject({ name: '假名试驾', mobile: '13900000202' });
    const readers = { marketing: await h.token('marketing', [CORP_A]), oem: await h.token('oem', []) };
    for (const token of Object.values(readers)) {
      const one = await api().get(`/api/v1/leads/${id}?corpId=${CORP_A}`).set(as(token)).expect(200);
      expect(one.body.stage).toBeTruthy();
      expect(one.body.name).toBeUndefined();
      expect(one.body.mobile).toBeUndefined();
      const board = await api().get(`/api/v1/leads?corpId=${CORP_A}`).set(as(token)).expect(200);
      expect(JSON.stringify(board.body)).not.toContain('13900000202');
      expect(JSON.stringify(board.body)).not.toContain('假名试驾');
    }
  });
});
