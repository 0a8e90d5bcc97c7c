import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { momentCreateJob } from '../../queues/jobs/broadcasts.jobs.js';
import { bearer, CORP_A, CORP_B, useApiHarness } from './api.test-support.js';

const h = useApiHarness('moments-routes');

describe('/api/v1/moments', () => {
  it('stores a task and queues its creation in WeCom, lists it, counts it, and hides other corps', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt1');
    const api = request(h.app.callback());
    const created = await api
      .post('/api/v1/moments')
      .set(bearer(mkt))
      .send({
        corpId: CORP_A,
        name: '汉兰达上市',
        text: '新款到店',
        tagIds: ['etTag1'],
        advisors: ['zhangwei', 'zhangwei', 'lina'],
      })
      .expect(202);
    const id = created.body.id as string;
    const job = await h.queues
      .get(momentCreateJob.queue)
      .getJob(momentCreateJob.jobId!({ corpId: CORP_A, momentTaskId: id }));
    expect(job?.data).toEqual({ corpId: CORP_A, momentTaskId: id });
    const got = await api.get(`/api/v1/moments/${id}?corpId=${CORP_A}`).set(bearer(mkt)).expect(200);
    expect(got.body).toMatchObject({
      status: 'pending',
      advisors: ['zhangwei', 'lina'],
      published: 0,
      tagIds: ['etTag1'],
    });
    const list = await api.get(`/api/v1/moments?corpId=${CORP_A}`).set(bearer(mkt)).expect(200);
    expect(list.body.moments.map((m: { id: string }) => m.id)).toEqual([id]);
    const kpis = await api
      .get(`/api/v1/kpis/moments?corpId=${CORP_A}&from=2026-05-01&to=2026-06-01`)
      .set(bearer(mkt))
      .expect(200);
    expect(kpis.body).toMatchObject({ tasks: 1, advisors: 2, published: 0, publishedShare: 0 });

    const bad = await api
      .post('/api/v1/moments')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, name: 'x', text: 'y', advisors: [] })
      .expect(422);
    expect(JSON.stringify(bad.body)).toMatch(/at least one advisor/);
    await api
      .post('/api/v1/moments')
      .set(bearer(mkt))
      .send({ corpId: CORP_A, name: 'x', text: 'y'.repeat(2001), advisors: ['a'] })
      .expect(422);
    await api.get(`/api/v1/moments/${id}?corpId=${CORP_B}`).set(bearer(mkt)).expect(404);
    const other = await h.token('marketing', [CORP_B], 'mktB');
    await api.get(`/api/v1/moments/${id}?corpId=${CORP_B}`).set(bearer(other)).expect(404);
    await api.get(`/api/v1/kpis/moments?corpId=${CORP_A}&from=2026-06-01&to=2026-05-01`).set(bearer(mkt)).expect(422);
  });
});
