import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChannelModel } from '../../domain/acquisition/channel.model.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { CORP_A, bearer, startApiHarness } from './api.test-support.js';

/** A stand-in for WeCom's QR CDN: /qr.png is an image, /broken answers 502. */
const PNG = Buffer.from('89504e470d0a1a0a0000000d49484452', 'hex');
let cdn: Server;
let cdnUrl = '';
let db: Awaited<ReturnType<typeof useTestDatabase>>;
let h: Awaited<ReturnType<typeof startApiHarness>>;
const api = () => request(h.app.callback());

async function channel(fields: Record<string, unknown>): Promise<string> {
  const doc = await ChannelModel.create({
    corpId: CORP_A,
    name: '展厅码',
    kind: 'lead',
    advisors: ['qr-adv-1'],
    state: `chl-${Math.random().toString(36).slice(2, 10)}`,
    revision: 1,
    syncState: 'synced',
    ...fields,
  });
  return String(doc._id);
}

beforeAll(async () => {
  db = await useTestDatabase('channel-qr-routes');
  h = await startApiHarness();
  cdn = createServer((req, res) => {
    if (req.url === '/qr.png') {
      res.writeHead(200, { 'content-type': 'image/png' });
      res.end(PNG);
    } else {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<h1>bad gateway</h1>');
    }
  });
  await new Promise<void>((r) => cdn.listen(0, '127.0.0.1', r));
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await h.close();
  await new Promise((r) => cdn.close(r));
  await db.drop();
});

describe('GET /api/v1/channels/:id/qr.png', () => {
  it('passes the QR image on to marketing and to the advisor on the code, and hides it from other advisors', async () => {
    const id = await channel({ qrCode: `${cdnUrl}/qr.png` });
    const marketing = await h.token('marketing', [CORP_A]);
    const res = await api().get(`/api/v1/channels/${id}/qr.png?corpId=${CORP_A}`).set(bearer(marketing)).expect(200);
    expect(res.headers['content-type']).toBe('image/png');
    expect(Buffer.compare(res.body as Buffer, PNG)).toBe(0);

    const own = await h.token('advisor', [CORP_A], 'qr-adv-1');
    await api().get(`/api/v1/channels/${id}/qr.png?corpId=${CORP_A}`).set(bearer(own)).expect(200);
    const other = await h.token('advisor', [CORP_A], 'qr-adv-2');
    await api().get(`/api/v1/channels/${id}/qr.png?corpId=${CORP_A}`).set(bearer(other)).expect(404);
  });

  it('lists an advisor only the codes they are on', async () => {
    await channel({ advisors: ['qr-adv-3'], name: '别人的码' });
    const own = await h.token('advisor', [CORP_A], 'qr-adv-1');
    const res = await api().get(`/api/v1/channels?corpId=${CORP_A}`).set(bearer(own)).expect(200);
    const names = (res.body.channels as Array<{ advisors: string[] }>).map((c) => c.advisors);
    expect(names.length).toBeGreaterThan(0);
    expect(names.every((a) => a.includes('qr-adv-1'))).toBe(true);
  });

  it('says what to do when the code is not synced yet or the CDN fails', async () => {
    const marketing = await h.token('marketing', [CORP_A]);
    const pending = await channel({ syncState: 'pending' });
    const notYet = await api()
      .get(`/api/v1/channels/${pending}/qr.png?corpId=${CORP_A}`)
      .set(bearer(marketing))
      .expect(409);
    expect(notYet.body.error.message).toMatch(/try again once it is synced/);
    const broken = await channel({ qrCode: `${cdnUrl}/broken` });
    const down = await api()
      .get(`/api/v1/channels/${broken}/qr.png?corpId=${CORP_A}`)
      .set(bearer(marketing))
      .expect(503);
    expect(down.body.error.code).toBe('qr_unavailable');
  });
});
