import { Registry } from 'prom-client';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from './app.js';
import { ManualClock } from './infra/clock.js';
import { createLogger } from './infra/logger.js';
import { createOpsAccess } from './middlewares/ops-access.js';
import { createMetricsRouter } from './routes/ops.routes.js';
import { testConfig } from './testing/env.js';

const OPS = 'o'.repeat(40);

function app(env: Record<string, string>, ready = true) {
  const config = testConfig(env);
  const metrics = createMetricsRouter(new Registry(), { allow: createOpsAccess(config) });
  const probe = async function whoAmI(ctx: { path: string; ip: string; body: unknown }, next: () => Promise<void>) {
    if (ctx.path !== '/api/v1/whoami') return next();
    ctx.body = { ip: ctx.ip };
  };
  return createApp({
    config,
    logger: createLogger({ level: 'silent', name: 'test' }),
    clock: new ManualClock(0),
    health: [{ name: 'ingest', critical: true, check: async () => ({ ok: ready, detail: { spoolDepth: 3 } }) }],
    mounts: [metrics.routes(), probe as never],
  }).callback();
}

describe('operational endpoints on the web port', () => {
  it('give /readyz details and /metrics only with OPS_TOKEN, keeping the probe status codes', async () => {
    const web = app({ OPS_TOKEN: OPS });
    expect((await request(web).get('/readyz').expect(200)).body).toEqual({ status: 'ready' });
    const detailed = await request(web).get('/readyz').set('Authorization', `Bearer ${OPS}`).expect(200);
    expect(detailed.body.dependencies.ingest).toEqual({ state: 'up', spoolDepth: 3 });
    expect(
      (
        await request(app({ OPS_TOKEN: OPS }, false))
          .get('/readyz')
          .expect(503)
      ).body,
    ).toEqual({ status: 'not_ready' });
    const refused = await request(web)
      .get('/metrics')
      .set('Authorization', `Bearer ${'x'.repeat(40)}`)
      .expect(401);
    expect(refused.body.error.code).toBe('ops_token_required');
    await request(web).get('/metrics').set('Authorization', `Bearer ${OPS}`).expect(200);
  });

  it('are closed in production without OPS_TOKEN, open in development', async () => {
    const prod = app({ NODE_ENV: 'production', PUBLIC_BASE_URL: 'https://scrm.example.test' });
    expect((await request(prod).get('/readyz').expect(200)).body).toEqual({ status: 'ready' });
    await request(prod).get('/metrics').expect(401);
    const dev = app({ NODE_ENV: 'development' });
    expect((await request(dev).get('/readyz').expect(200)).body.dependencies).toBeDefined();
    await request(dev).get('/metrics').expect(200);
  });
});

describe('answers of the web app', () => {
  it('carry nosniff, and no-store on the API, also on errors', async () => {
    const web = app({});
    const ok = await request(web).get('/api/v1/whoami').expect(200);
    expect(ok.headers['x-content-type-options']).toBe('nosniff');
    expect(ok.headers['cache-control']).toBe('no-store');
    const missing = await request(web).get('/api/v1/nothing-here').expect(404);
    expect(missing.headers['x-content-type-options']).toBe('nosniff');
    expect(missing.headers['cache-control']).toBe('no-store');
    expect((await request(web).get('/livez')).headers['x-content-type-options']).toBe('nosniff');
  });

  it('believe X-Forwarded-For only for the proxies TRUST_PROXY declares', async () => {
    const direct = await request(app({})).get('/api/v1/whoami').set('X-Forwarded-For', '203.0.113.9').expect(200);
    expect(direct.body.ip).not.toBe('203.0.113.9');
    const proxied = await request(app({ TRUST_PROXY: '1' }))
      .get('/api/v1/whoami')
      .set('X-Forwarded-For', '198.51.100.7, 203.0.113.9')
      .expect(200);
    expect(proxied.body.ip).toBe('203.0.113.9');
  });
});
