import { randomUUID } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../app.js';
import { LeadModel } from '../../domain/acquisition/lead.model.js';
import { WebhookSecrets } from '../../domain/webhooks/webhook-secret.service.js';
import { signWebhook } from '../../domain/webhooks/webhook-signature.js';
import { createLogger } from '../../infra/logger.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CORP_A, startApiHarness } from '../api/api.test-support.js';
import { createWebhooksRouter } from './webhooks.router.js';

let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
let server: ReturnType<typeof request>;
let secret: string;

beforeAll(async () => {
  db = await useTestDatabase('leads-webhook');
  h = await startApiHarness();
  const logger = createLogger({ level: 'silent', name: 'test' });
  const deps = {
    config: h.config,
    clock: h.clock,
    logger,
    queues: h.queues,
    pd: h.pd,
    redis: h.redis,
    corpService: h.corpService,
  };
  server = request(
    createApp({
      config: h.config,
      logger,
      clock: h.clock,
      health: [],
      mounts: [createWebhooksRouter(deps).routes()],
    }).callback(),
  );
});
afterAll(async () => {
  await h.close();
  await db.drop();
});
beforeEach(async () => {
  await LeadModel.deleteMany({});
  secret = (await new WebhookSecrets(h.pd.cipher, () => h.clock.now()).rotate(CORP_A, 'leads')).secret;
});

function deliver(body: unknown, opts: { id?: string; key?: string } = {}) {
  const raw = JSON.stringify(body);
  const id = opts.id ?? `msg_${randomUUID()}`;
  const ts = Math.floor(h.clock.nowMs() / 1000);
  return server
    .post(`/webhooks/leads/${CORP_A}`)
    .set('content-type', 'application/json')
    .set('webhook-id', id)
    .set('webhook-timestamp', String(ts))
    .set('webhook-signature', signWebhook(opts.key ?? secret, id, ts, raw))
    .send(raw);
}

// Made-up people: the mobile numbers are in the 139-0000 test range.
const lead = (over: Record<string, unknown> = {}) => ({
  source: 'autohome',
  sourceId: 'AH-1001',
  name: '测试线索',
  mobile: '13900001001',
  model: '汉兰达',
  ...over,
});

describe('lead webhook (POST /webhooks/leads/:corpId)', () => {
  it("takes a signed lead through the API's intake, stores name and mobile sealed, and answers per item", async () => {
    const res = await deliver(lead());
    expect(res.status).toBe(200);
    expect(res.body.summary).toEqual({ created: 1, merged: 0, rejected: 0 });
    const stored = await LeadModel.findOne({ corpId: CORP_A }).lean();
    expect(stored?.source).toBe('autohome');
    expect(JSON.stringify(stored)).not.toContain('13900001001');
  });

  it('merges a repeated push of the same person as repeat interest, never a second lead', async () => {
    expect((await deliver(lead())).status).toBe(200);
    const again = await deliver({ leads: [lead({ sourceId: 'AH-1002' })] });
    expect(again.status).toBe(200);
    expect(again.body.summary).toEqual({ created: 0, merged: 1, rejected: 0 });
    expect(await LeadModel.countDocuments({ corpId: CORP_A })).toBe(1);
  });

  it('refuses a wrong signature (401), a replayed delivery (409) and a batch with nothing valid (422, retryable under the same id)', async () => {
    expect(
      (await deliver(lead(), { key: `whsec_${Buffer.from('another secret of 32 bytes!!!!!!').toString('base64')}` }))
        .status,
    ).toBe(401);
    const id = `msg_${randomUUID()}`;
    const bad = await deliver({ leads: [{ source: 'nowhere' }] }, { id });
    expect(bad.status).toBe(422);
    expect(bad.body.error.message).toContain('no lead was accepted');
    expect((await deliver(lead(), { id })).status).toBe(200);
    expect((await deliver(lead(), { id })).status).toBe(409);
    expect(await LeadModel.countDocuments({ corpId: CORP_A })).toBe(1);
  });
});
