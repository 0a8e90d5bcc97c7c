import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CORP_A, useApiHarness } from './api.test-support.js';
import { waitFor } from '../../testing/wait.js';
import { ApiTokenModel } from '../../domain/auth/api-token.model.js';

const h = useApiHarness('token-expiry');

describe('API token expiry and last use', () => {
  it('refuses a token from its expiry on, and refuses an expiry in the past', async () => {
    const admin = await h.token('admin');
    const expiresAt = new Date(h.clock.nowMs() + 3_600_000).toISOString();
    const created = await request(h.app.callback())
      .post('/api/v1/tokens')
      .set('Authorization', `Bearer ${admin}`)
      .send({ role: 'dealer_admin', corps: [CORP_A], expiresAt })
      .expect(201);
    await request(h.app.callback())
      .get('/api/v1/rules')
      .set('Authorization', `Bearer ${created.body.token}`)
      .expect(200);
    h.clock.advance(3_600_000);
    const expired = await request(h.app.callback())
      .get('/api/v1/rules')
      .set('Authorization', `Bearer ${created.body.token}`)
      .expect(401);
    expect(expired.body.error.code).toBe('invalid_token');
    const past = await request(h.app.callback())
      .post('/api/v1/tokens')
      .set('Authorization', `Bearer ${admin}`)
      .send({ role: 'dealer_admin', corps: [CORP_A], expiresAt: '2020-01-01T00:00:00Z' })
      .expect(422);
    expect(JSON.stringify(past.body.error)).toContain('the expiry must lie in the future');
    await request(h.app.callback())
      .post('/api/v1/tokens')
      .set('Authorization', `Bearer ${admin}`)
      .send({ role: 'dealer_admin', corps: [CORP_A], expiresAt: 'tomorrow' })
      .expect(422);
  });

  it('records the last use at most once a minute', async () => {
    const token = await h.token('dealer_admin', [CORP_A]);
    const tokenId = token.split('_')[1];
    const lastUsed = async () => (await ApiTokenModel.findOne({ tokenId }).lean())?.lastUsedAt?.getTime();
    await request(h.app.callback()).get('/api/v1/rules').set('Authorization', `Bearer ${token}`).expect(200);
    const first = await waitFor(lastUsed, 'first use recorded');
    h.clock.advance(30_000);
    await request(h.app.callback()).get('/api/v1/rules').set('Authorization', `Bearer ${token}`).expect(200);
    h.clock.advance(31_000);
    await request(h.app.callback()).get('/api/v1/rules').set('Authorization', `Bearer ${token}`).expect(200);
    // The use 30 s later wrote nothing; the one 61 s later did.
    const second = await waitFor(
      async () => ((await lastUsed()) !== first ? lastUsed() : undefined),
      'second use recorded',
    );
    expect(second).toBe(first + 61_000);
  });
});
