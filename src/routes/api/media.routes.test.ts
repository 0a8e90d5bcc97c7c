import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { CORP_A, CORP_B, useApiHarness } from './api.test-support.js';

const h = useApiHarness('media');

/** A 1×1 PNG made here (no real image data). */
const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

describe('POST /api/v1/media', () => {
  it('stores an image for a corp and describes it, without the bytes', async () => {
    const marketing = await h.token('marketing', [CORP_A]);
    const res = await request(h.app.callback())
      .post('/api/v1/media')
      .set('Authorization', `Bearer ${marketing}`)
      .send({
        scope: CORP_A,
        filename: 'owner-manual.png',
        contentType: 'image/png',
        dataBase64: PNG.toString('base64'),
      });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      filename: 'owner-manual.png',
      contentType: 'image/png',
      bytes: PNG.length,
      scope: CORP_A,
    });
    const got = await request(h.app.callback())
      .get(`/api/v1/media/${res.body.id as string}`)
      .set('Authorization', `Bearer ${marketing}`);
    expect(got.body).toEqual({
      id: res.body.id,
      filename: 'owner-manual.png',
      contentType: 'image/png',
      scope: CORP_A,
      uploads: 0,
    });
    const other = await h.token('marketing', [CORP_B]);
    expect(
      (
        await request(h.app.callback())
          .get(`/api/v1/media/${res.body.id as string}`)
          .set('Authorization', `Bearer ${other}`)
      ).status,
    ).toBe(404);
  });

  it('refuses bytes that are not the declared image type, other corps and advisors', async () => {
    const marketing = await h.token('marketing', [CORP_A]);
    const fake = await request(h.app.callback())
      .post('/api/v1/media')
      .set('Authorization', `Bearer ${marketing}`)
      .send({ scope: CORP_A, filename: 'x.jpg', contentType: 'image/jpeg', dataBase64: PNG.toString('base64') });
    expect(fake.status).toBe(422);
    expect(fake.body.error.details).toEqual([{ path: '/dataBase64', message: 'the bytes are not a image/jpeg image' }]);
    const cross = await request(h.app.callback())
      .post('/api/v1/media')
      .set('Authorization', `Bearer ${marketing}`)
      .send({ scope: CORP_B, filename: 'x.png', contentType: 'image/png', dataBase64: PNG.toString('base64') });
    expect(cross.status).toBe(403);
    const advisor = await h.token('advisor', [CORP_A], 'zhangwei');
    expect(
      (await request(h.app.callback()).post('/api/v1/media').set('Authorization', `Bearer ${advisor}`).send({})).status,
    ).toBe(403);
  });
});
