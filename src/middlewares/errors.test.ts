import Router from '@koa/router';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { createApp } from '../app.js';
import { ManualClock } from '../infra/clock.js';
import { createLogger } from '../infra/logger.js';
import { testConfig } from '../testing/env.js';
import { NotFoundError, RateLimitedError, ValidationError } from '../infra/errors.js';

function appWith(router: Router) {
  const errors: Error[] = [];
  const app = createApp({
    config: testConfig(),
    logger: createLogger({ level: 'silent', name: 'test' }),
    clock: new ManualClock(),
    health: [],
    mounts: [router.routes(), router.allowedMethods()],
  });
  app.on('error', (err: Error) => errors.push(err));
  return { server: app.callback(), errors };
}

describe('error model', () => {
  const router = new Router();
  router.get('/validation', () => {
    throw new ValidationError([{ path: 'actions[1].dueIn', message: 'use a duration like 3d or 48h' }]);
  });
  router.get('/missing', () => {
    throw new NotFoundError('no rule with id r1');
  });
  router.get('/limited', () => {
    throw new RateLimitedError(7);
  });
  router.get('/koa-throw', (ctx) => ctx.throw(413, 'body too large'));
  router.get('/bug', () => {
    throw new TypeError('cannot read properties of undefined (secret detail)');
  });
  const { server, errors } = appWith(router);

  it('gives clients a stable code, a message and field problems', async () => {
    const res = await request(server).get('/validation');
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      error: {
        code: 'validation_failed',
        message: 'some fields are invalid',
        details: [{ path: 'actions[1].dueIn', message: 'use a duration like 3d or 48h' }],
      },
    });
    expect((await request(server).get('/missing')).body).toEqual({
      error: { code: 'not_found', message: 'no rule with id r1' },
    });
  });

  it('sets Retry-After on 429 and maps Koa errors to codes', async () => {
    const limited = await request(server).get('/limited');
    expect(limited.status).toBe(429);
    expect(limited.headers['retry-after']).toBe('7');
    const tooLarge = await request(server).get('/koa-throw');
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body.error.code).toBe('payload_too_large');
  });

  it('hides unknown errors behind a generic 500 and logs them once', async () => {
    const before = errors.length;
    const res = await request(server).get('/bug');
    expect(res.status).toBe(500);
    expect(res.body.error.code).toBe('internal_error');
    expect(JSON.stringify(res.body)).not.toContain('secret detail');
    expect(errors.length - before).toBe(1);
  });

  it('answers unknown routes with 404 and wrong methods with 405', async () => {
    expect((await request(server).get('/nope')).status).toBe(404);
    expect((await request(server).post('/missing')).status).toBe(405);
    const live = await request(server).get('/livez');
    expect(live.status).toBe(200);
    expect(live.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
