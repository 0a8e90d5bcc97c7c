import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { broadcastTickJob, momentTickJob } from '../../queues/jobs/broadcasts.jobs.js';
import { BOOTSTRAP, bearer, CORP_A, useApiHarness } from './api.test-support.js';

const h = useApiHarness('ops-api-routes');

describe('/api/v1/ops: the broadcast and Moments ticks on demand', () => {
  it.each([
    ['/ops/broadcasts', broadcastTickJob, 'ops.broadcasts'],
    ['/ops/moments', momentTickJob, 'ops.moments'],
  ] as const)('POST %s queues one run of the tick for the worker and audits who asked', async (path, job, action) => {
    const api = request(h.app.callback());
    const first = await api.post(`/api/v1${path}`).set(bearer(BOOTSTRAP)).expect(202);
    const second = await api.post(`/api/v1${path}`).set(bearer(BOOTSTRAP)).expect(202);
    // Each call is its own run, never folded into the scheduler's job id.
    expect(second.body.jobId).not.toBe(first.body.jobId);
    const queued = await h.queues.get(job.queue).getJob(first.body.jobId as string);
    expect(queued?.name).toBe(job.name);
    expect(queued?.data).toEqual({});
    const audit = await api.get('/api/v1/audit').set(bearer(BOOTSTRAP)).expect(200);
    expect(JSON.stringify(audit.body)).toContain(action);
  });

  it('refuses a dealer admin (admins only)', async () => {
    const dealer = await h.token('dealer_admin', [CORP_A], 'da1');
    await request(h.app.callback()).post('/api/v1/ops/broadcasts').set(bearer(dealer)).expect(403);
  });
});
