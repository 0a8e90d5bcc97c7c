import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { ContentItemModel } from '../../domain/content/content-item.model.js';
import { MediaAssetModel } from '../../domain/messages/media-asset.model.js';
import { pngOf } from '../../domain/moments/moment.test-support.js';
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

  it('takes images (assets or content-library image items) or one link with a cover, and explains what it refuses', async () => {
    const mkt = await h.token('marketing', [CORP_A], 'mkt2');
    const api = request(h.app.callback());
    const asset = async (scope: string, width = 800, height = 600) =>
      String(
        (
          await MediaAssetModel.create({
            filename: 'a.png',
            contentType: 'image/png',
            data: pngOf(width, height),
            scope,
          })
        )._id,
      );
    const mine = await asset(CORP_A);
    const oems = await asset('all');
    const others = await asset(CORP_B);
    const huge = await asset(CORP_A, 1920, 1440);
    const item = String(
      (await ContentItemModel.create({ scope: 'all', kind: 'image', title: '新车图', assetId: oems }))._id,
    );
    const talk = String(
      (await ContentItemModel.create({ scope: CORP_A, kind: 'talk_track', title: 't', text: 'x' }))._id,
    );
    const post = (body: Record<string, unknown>) =>
      api
        .post('/api/v1/moments')
        .set(bearer(mkt))
        .send({ corpId: CORP_A, name: 'n', advisors: ['zhangwei'], ...body });

    const withImages = await post({ images: [{ assetId: mine }, { contentItemId: item }] }).expect(202);
    const got = await api.get(`/api/v1/moments/${withImages.body.id}?corpId=${CORP_A}`).set(bearer(mkt)).expect(200);
    expect(got.body).toMatchObject({
      text: '',
      images: [{ assetId: mine }, { assetId: oems, contentItemId: item }],
    });
    const withLink = await post({
      text: '到店试驾',
      link: { title: '新款汉兰达', url: 'https://dealer.example.com/a', cover: { contentItemId: item } },
    }).expect(202);
    const linkTask = await api.get(`/api/v1/moments/${withLink.body.id}?corpId=${CORP_A}`).set(bearer(mkt)).expect(200);
    expect(linkTask.body.link).toEqual({
      title: '新款汉兰达',
      url: 'https://dealer.example.com/a',
      coverAssetId: oems,
      coverContentItemId: item,
    });

    const refused = async (body: Record<string, unknown>, message: RegExp) => {
      const res = await post(body).expect(422);
      expect(JSON.stringify(res.body)).toMatch(message);
    };
    await refused({}, /needs a text, images or a link/);
    await refused({ images: Array.from({ length: 10 }, () => ({ assetId: mine })) }, /at most 9 images/);
    await refused(
      { images: [{ assetId: mine }], link: { title: 't', url: 'https://a.example', cover: { assetId: mine } } },
      /images or one link, not both/,
    );
    await refused({ link: { title: 't', url: 'http://a.example', cover: { assetId: mine } } }, /https:\/\/ URL/);
    await refused({ link: { title: 't', url: 'https://a.example' } }, /needs a cover image/);
    await refused({ link: { title: 'x'.repeat(65), url: 'https://a.example', cover: { assetId: mine } } }, /64/);
    await refused({ images: [{ assetId: others }] }, new RegExp(`no image ${others}`));
    await refused({ images: [{ contentItemId: talk }] }, /no content-library image/);
    await refused({ images: [{ assetId: huge }] }, /1920×1440 px.*1080/);
    await refused({ images: [{ url: 'https://x' }] }, /assetId.*contentItemId/);
  });
});
