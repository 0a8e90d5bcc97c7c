import request from 'supertest';
import { Types } from 'mongoose';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { planBroadcast } from '../../domain/broadcasts/broadcast-plan.js';
import { BroadcastModel } from '../../domain/broadcasts/broadcast.model.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { bearer, CORP_A, CORP_B, useApiHarness } from './api.test-support.js';

const h = useApiHarness('segments-routes');
const ids = Array.from({ length: 6 }, () => new Types.ObjectId());

beforeAll(async () => {
  // lina follows customers 0–1, zhangwei 2–4; customer 5 is lina's in another corp.
  await CustomerModel.collection.insertMany(
    ids.map((_id, i) => ({
      _id,
      corpId: i === 5 ? CORP_B : CORP_A,
      externalUserId: `wmSegment${i}`,
      type: 1,
      responsibleUserid: i < 2 || i === 5 ? 'lina' : 'zhangwei',
    })),
  );
});

describe('/api/v1/segments', () => {
  it('creates, reads, renames and deletes a segment, auditing each write', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'segmkt1');
    const mgr = await h.token('manager', [CORP_A], 'segmgr1');
    const api = request(h.app.callback());
    const created = await api
      .post('/api/v1/segments')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, name: '丽娜的客户', conditions: { advisors: ['lina'] } })
      .expect(201);
    const id = created.body.id as string;
    expect(created.body).toMatchObject({ corpId: CORP_A, name: '丽娜的客户', conditions: { advisors: ['lina'] } });
    expect(created.body.createdBy).toBe('user:segmkt1');

    const list = await api.get(`/api/v1/segments?corpId=${CORP_A}`).set(bearer(mgr)).expect(200);
    expect(list.body.segments.map((s: { id: string }) => s.id)).toEqual([id]);
    await api.get(`/api/v1/segments/${id}`).set(bearer(mgr)).expect(200);
    await api.put(`/api/v1/segments/${id}`).set(bearer(mgr)).send({ name: 'x' }).expect(403);

    const renamed = await api
      .put(`/api/v1/segments/${id}`)
      .set(bearer(mkt))
      .send({ name: '丽娜的车主', conditions: { advisors: ['lina'], lifecycle: ['owner'] } })
      .expect(200);
    expect(renamed.body).toMatchObject({ name: '丽娜的车主', conditions: { lifecycle: ['owner'] } });

    await api.delete(`/api/v1/segments/${id}`).set(bearer(mkt)).expect(204);
    await api.get(`/api/v1/segments/${id}`).set(bearer(mgr)).expect(404);
    const after = await api.get(`/api/v1/segments?corpId=${CORP_A}`).set(bearer(mgr)).expect(200);
    expect(after.body.segments).toEqual([]);
    // The name is free again once the segment is deleted.
    await api.post('/api/v1/segments').set(bearer(mkt)).send({ corpId: CORP_A, name: '丽娜的车主' }).expect(201);

    const actions = await AuditEntryModel.find({ 'target.type': 'segment', 'target.id': id }).lean();
    expect(actions.map((a) => a.action).sort()).toEqual(['segment.create', 'segment.delete', 'segment.update']);
    expect(actions.every((a) => a.target?.corpId === CORP_A)).toBe(true);
  });

  it("refuses bad conditions (422 with the field), a taken name (409), unknown and other corps' ids (404)", async () => {
    const mkt = await h.token('marketing', [CORP_A], 'segmkt2');
    const mktB = await h.token('marketing', [CORP_B], 'segmktB');
    const api = request(h.app.callback());
    const bad = await api
      .post('/api/v1/segments')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, name: '坏条件', conditions: { lifecycle: ['vip'] } })
      .expect(422);
    expect(bad.body.error.details[0].path).toMatch(/^\/conditions\/lifecycle/);
    const unknownField = await api
      .post('/api/v1/segments')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, name: '坏条件', conditions: { colour: 'red' } })
      .expect(422);
    expect(JSON.stringify(unknownField.body)).toMatch(/conditions/);

    await api.post('/api/v1/segments').set(bearer(mkt)).send({ corpId: CORP_A, name: '同名' }).expect(201);
    const dup = await api.post('/api/v1/segments').set(bearer(mkt)).send({ corpId: CORP_A, name: '同名' }).expect(409);
    expect(dup.body.error.code).toBe('segment_name_taken');
    // Another corp may use the same name.
    const b = await api.post('/api/v1/segments').set(bearer(mktB)).send({ corpId: CORP_B, name: '同名' }).expect(201);

    await api.get('/api/v1/segments/0123456789abcdef01234567').set(bearer(mkt)).expect(404);
    await api.get('/api/v1/segments/not-an-id').set(bearer(mkt)).expect(404);
    const other = await api
      .get(`/api/v1/segments/${b.body.id as string}`)
      .set(bearer(mkt))
      .expect(404);
    expect(other.body.error.code).toBe('segment_not_found');
    await api
      .put(`/api/v1/segments/${b.body.id as string}`)
      .set(bearer(mkt))
      .send({ name: 'y' })
      .expect(404);
    await api
      .delete(`/api/v1/segments/${b.body.id as string}`)
      .set(bearer(mkt))
      .expect(404);
    await api.post('/api/v1/segments').set(bearer(mkt)).send({ corpId: CORP_B, name: 'z' }).expect(403);
    const mine = await api.get('/api/v1/segments').set(bearer(mkt)).expect(200);
    expect(mine.body.segments.every((s: { corpId: string }) => s.corpId === CORP_A)).toBe(true);
  });

  it('a broadcast from a segmentId targets exactly its customers, resolved again when planned', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'segmkt3');
    const api = request(h.app.callback());
    const seg = await api
      .post('/api/v1/segments')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, name: '丽娜', conditions: { advisors: ['lina'] } })
      .expect(201);
    const segmentId = seg.body.id as string;
    const preview = await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, audience: { kind: 'segment', segmentId } })
      .expect(200);
    expect(preview.body).toMatchObject({ customers: 2, advisors: [{ userid: 'lina', customers: 2 }] });

    const created = await api
      .post('/api/v1/broadcasts')
      .set(bearer(mkt))
      .send({
        corpId: CORP_A,
        name: '丽娜的保养节',
        audience: { kind: 'segment', segmentId, conditions: { advisors: ['zhangwei'] } },
        content: { text: '保养节' },
        scheduledAt: '2026-05-10T04:00:00Z',
      })
      .expect(201);
    const stored = await BroadcastModel.findOne({ _id: created.body.id, corpId: CORP_A }).lean();
    // The segment's conditions are the snapshot, whatever conditions the client sent beside the id.
    expect(stored?.audience).toEqual({ kind: 'segment', segmentId, conditions: { advisors: ['lina'] } });

    const plan = async () =>
      planBroadcast(
        {
          id: created.body.id as string,
          corpId: CORP_A,
          audience: stored?.audience as never,
          holdoutPercent: 0,
          monthlyCap: 4,
        },
        { now: h.clock.now(), timeZone: 'Asia/Shanghai' },
      );
    const first = await plan();
    expect(first.advisors.flatMap((a) => a.customers.map((c) => c.customerId)).sort()).toEqual(
      [String(ids[0]), String(ids[1])].sort(),
    );
    expect(first.conditions).toEqual({ advisors: ['lina'] });

    // Edited before the send: the plan uses the segment as it is then.
    await api
      .put(`/api/v1/segments/${segmentId}`)
      .set(bearer(mkt))
      .send({ conditions: { advisors: ['zhangwei'] } })
      .expect(200);
    const second = await plan();
    expect(second.advisors.flatMap((a) => a.customers.map((c) => c.customerId)).sort()).toEqual(
      [String(ids[2]), String(ids[3]), String(ids[4])].sort(),
    );
    expect(second.conditions).toEqual({ advisors: ['zhangwei'] });

    // A segment an unsent broadcast names is not deleted.
    const inUse = await api.delete(`/api/v1/segments/${segmentId}`).set(bearer(mkt)).expect(409);
    expect(inUse.body.error.code).toBe('segment_in_use');
  });

  it('refuses a segmentId of another corp or for a push to every dealer', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'segmkt4');
    const oem = await h.token('oem', [], 'segoem');
    const mktB = await h.token('marketing', [CORP_B], 'segmktB2');
    const api = request(h.app.callback());
    const b = await api.post('/api/v1/segments').set(bearer(mktB)).send({ corpId: CORP_B, name: 'B 段' }).expect(201);
    const draft = {
      name: 'x',
      audience: { kind: 'segment', segmentId: b.body.id as string },
      content: { text: 'y' },
      scheduledAt: '2026-05-10T04:00:00Z',
    };
    const res = await api
      .post('/api/v1/broadcasts')
      .set(bearer(mkt))
      .send({ ...draft, corpId: CORP_A })
      .expect(422);
    expect(res.body.error.details[0].path).toBe('/audience/segmentId');
    await api
      .post('/api/v1/broadcasts/preview')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, audience: draft.audience })
      .expect(422);
    const push = await api
      .post('/api/v1/broadcasts')
      .set(bearer(oem))
      .send({ ...draft, dealers: 'all' })
      .expect(422);
    expect(push.body.error.details[0].message).toMatch(/belongs to one corp/);
  });
});
