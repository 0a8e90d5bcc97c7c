import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { RuleModel } from '../../domain/rules/rule.model.js';
import { CORP_A, CORP_B, useApiHarness } from './api.test-support.js';

const h = useApiHarness('media-scope');

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');
const welcomeWith = (scope: string, assetId: string) => ({
  name: '图片欢迎',
  scope,
  trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
  actions: [{ type: 'welcome', text: '欢迎', attachments: [{ type: 'image', assetId }] }],
});

async function upload(token: string, scope: string): Promise<string> {
  const res = await request(h.app.callback())
    .post('/api/v1/media')
    .set('Authorization', `Bearer ${token}`)
    .send({ scope, filename: 'x.png', contentType: 'image/png', dataBase64: PNG.toString('base64') })
    .expect(201);
  return res.body.id as string;
}

describe('media assets in rules', () => {
  it("cannot be referenced by another corp's rule, nor by an all-corp rule", async () => {
    const marketingA = await h.token('marketing', [CORP_A]);
    const marketingB = await h.token('marketing', [CORP_B]);
    const imageOfA = await upload(marketingA, CORP_A);
    const refused = await request(h.app.callback())
      .post('/api/v1/rules')
      .set('Authorization', `Bearer ${marketingB}`)
      .send(welcomeWith(CORP_B, imageOfA))
      .expect(422);
    expect(JSON.stringify(refused.body.error)).toContain(`no image ${imageOfA} for scope ${CORP_B}`);
    const admin = await h.token('admin');
    await request(h.app.callback())
      .post('/api/v1/rules')
      .set('Authorization', `Bearer ${admin}`)
      .send(welcomeWith('all', imageOfA))
      .expect(422);
    expect(await RuleModel.countDocuments({ scope: CORP_B })).toBe(0);
    await request(h.app.callback())
      .post('/api/v1/rules')
      .set('Authorization', `Bearer ${marketingA}`)
      .send(welcomeWith(CORP_A, imageOfA))
      .expect(201);
    const shared = await upload(admin, 'all');
    await request(h.app.callback())
      .post('/api/v1/rules')
      .set('Authorization', `Bearer ${marketingB}`)
      .send(welcomeWith(CORP_B, shared))
      .expect(201);
  });
});
