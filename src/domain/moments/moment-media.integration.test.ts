/**
 * Moments attachments through the sandbox: `media/upload_attachment` with WeCom's rules,
 * `add_moment_task` checking the media ids, and the worker's step uploading each image once per
 * corp, reusing the media id, re-uploading it when old or when WeCom says it is invalid, and
 * classifying failures (docs/engagement.md, "Moments tasks"; docs/wecom.md §12.1, §12.3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorpApi } from '../../wecom/corp-api.js';
import { startCustomerHarness, type CustomerHarness } from '../customers/customer.test-support.js';
import { MediaAssetModel } from '../messages/media-asset.model.js';
import { MEDIA_REFRESH_MS } from '../messages/media.service.js';
import { pngOf } from './moment.test-support.js';
import { MomentTaskModel } from './moment-task.model.js';
import { createMomentTask, startMomentTask, trackMomentTask, type MomentDeps } from './moment-tasks.js';

/** A JPEG header with a baseline start-of-frame of the given size. */
function jpegOf(width: number, height: number): Buffer {
  const app0 = Buffer.from([0xff, 0xe0, 0x00, 0x04, 0x00, 0x00]);
  const sof = Buffer.from([0xff, 0xc0, 0x00, 0x11, 0x08, height >> 8, height & 255, width >> 8, width & 255, 0x03]);
  return Buffer.concat([Buffer.from([0xff, 0xd8]), app0, sof, Buffer.alloc(32)]);
}

let h: CustomerHarness;
let corpId: string;
let api: CorpApi;
let deps: MomentDeps;

beforeAll(async () => {
  h = await startCustomerHarness('moment-media');
  [corpId] = h.sandbox.world.seed({
    corps: [{ members: [{ userid: 'zhangwei', name: '张伟' }] }],
  }).corpIds as [string];
  api = h.depsFor(corpId).api;
  deps = { corpId, api, clock: h.clock, logger: h.depsFor(corpId).logger };
});
afterAll(async () => {
  await h?.close();
});

/** A raw `upload_attachment` call, for query combinations the client never sends. */
async function rawUpload(query: string, data: Buffer): Promise<{ errcode: number }> {
  const corp = h.sandbox.world.corp(corpId);
  const token = (await (
    await fetch(`${h.sandbox.url}/cgi-bin/gettoken?corpid=${corpId}&corpsecret=${corp?.secret ?? ''}`)
  ).json()) as { access_token: string };
  const form = new FormData();
  form.append('media', new Blob([new Uint8Array(data)], { type: 'image/png' }), 'a.png');
  const res = await fetch(
    `${h.sandbox.url}/cgi-bin/media/upload_attachment?access_token=${token.access_token}&${query}`,
    {
      method: 'POST',
      body: form,
    },
  );
  return (await res.json()) as { errcode: number };
}

const senders = { visible_range: { sender_list: { user_list: ['zhangwei'] } } };

describe('the sandbox: media/upload_attachment and add_moment_task attachments', () => {
  it("applies WeCom's upload rules: scene, format, size and Moments resolution", async () => {
    const ok = await api.uploadAttachment('image', pngOf(1080, 1920), 'car.png', 'image/png');
    expect(ok).toMatchObject({ type: 'image', media_id: expect.any(String) });
    expect((await api.uploadAttachment('image', jpegOf(800, 600), 'car.jpg', 'image/jpeg')).media_id).toBeTruthy();
    await expect(api.uploadAttachment('image', pngOf(1200, 1200), 'big.png', 'image/png')).rejects.toMatchObject({
      errcode: 41081,
    });
    await expect(
      api.uploadAttachment('image', Buffer.from('GIF89a-not-a-png'), 'a.gif', 'image/gif'),
    ).rejects.toMatchObject({ errcode: 40004 });
    await expect(api.uploadAttachment('image', Buffer.from([1, 2, 3]), 'a.png', 'image/png')).rejects.toMatchObject({
      errcode: 40006,
    });
    const huge = Buffer.concat([pngOf(100, 100), Buffer.alloc(10 * 1024 * 1024)]);
    await expect(api.uploadAttachment('image', huge, 'huge.png', 'image/png')).rejects.toMatchObject({
      errcode: 41080,
    });
    await expect(api.uploadAttachment('video', pngOf(10, 10), 'a.mp4', 'video/mp4')).rejects.toMatchObject({
      errcode: 41090,
    });
    expect((await rawUpload('media_type=file&attachment_type=1', pngOf(10, 10))).errcode).toBe(41072);
    expect((await rawUpload('media_type=image&attachment_type=3', pngOf(10, 10))).errcode).toBe(41072);
    expect((await rawUpload('media_type=image&attachment_type=2', pngOf(2000, 2000))).errcode).toBe(0);
  });

  it('checks the media ids of a Moments task: kind, count, unknown, not a Moments attachment, expired', async () => {
    const img = (await api.uploadAttachment('image', pngOf(800, 600), 'a.png', 'image/png')).media_id;
    const image = (id: string) => ({ msgtype: 'image' as const, image: { media_id: id } });
    expect((await api.addMomentTask({ attachments: [image(img)], ...senders })).jobid).toBeTruthy();
    await expect(
      api.addMomentTask({ attachments: Array.from({ length: 10 }, () => image(img)), ...senders }),
    ).rejects.toMatchObject({ errcode: 41064 });
    const link = { msgtype: 'link' as const, link: { title: '试驾', url: 'https://example.com/a', media_id: img } };
    await expect(api.addMomentTask({ attachments: [image(img), link], ...senders })).rejects.toMatchObject({
      errcode: 41065,
    });
    await expect(api.addMomentTask({ attachments: [link, link], ...senders })).rejects.toMatchObject({
      errcode: 41064,
    });
    await expect(
      api.addMomentTask({ attachments: [{ ...link, link: { ...link.link, url: 'example.com/a' } }], ...senders }),
    ).rejects.toMatchObject({ errcode: 45034 });
    expect((await api.addMomentTask({ attachments: [link], ...senders })).jobid).toBeTruthy();
    await expect(api.addMomentTask({ attachments: [image('nope')], ...senders })).rejects.toMatchObject({
      errcode: 40007,
    });
    // A `media/upload` id is not a Moments attachment.
    const temp = (await api.uploadMedia('image', pngOf(800, 600), 'a.png', 'image/png')).media_id;
    await expect(api.addMomentTask({ attachments: [image(temp)], ...senders })).rejects.toMatchObject({
      errcode: 40007,
    });
    h.clock.advance(3 * 86_400_000 + 1000);
    await expect(api.addMomentTask({ attachments: [image(img)], ...senders })).rejects.toMatchObject({
      errcode: 40145,
    });
  });
});

describe('the worker: a Moments task with images or a link', () => {
  const calls = (endpoint: string) => h.sandbox.context.calls.list({ endpoint }).length;
  const newTask = async (extra: { images?: Array<{ assetId: string }>; link?: Record<string, string> }) =>
    createMomentTask(
      corpId,
      {
        name: 'n',
        text: '',
        tagIds: [],
        advisors: ['zhangwei'],
        ...(extra.images ? { images: extra.images } : {}),
        ...(extra.link
          ? { link: { title: extra.link.title ?? '', url: extra.link.url ?? '', coverAssetId: extra.link.cover ?? '' } }
          : {}),
      },
      'user:mkt',
      h.clock.now(),
    );
  const asset = async (data: Buffer, scope = corpId) =>
    String((await MediaAssetModel.create({ filename: 'a.png', contentType: 'image/png', data, scope }))._id);

  it('uploads each image once per corp, reuses the media id, re-uploads an old one and one WeCom no longer knows', async () => {
    const a = await asset(pngOf(1080, 1440));
    const b = await asset(pngOf(800, 600), 'all');
    h.sandbox.context.calls.clear();
    const first = await newTask({ images: [{ assetId: a }, { assetId: b }] });
    expect(await startMomentTask(deps, first)).toEqual({ status: 'creating' });
    expect(calls('media/upload_attachment')).toBe(2);
    expect(calls('externalcontact/add_moment_task')).toBe(1);
    expect(h.sandbox.world.corp(corpId)?.moments.at(-1)).toMatchObject({ attachments: 2, attachmentKind: 'image' });
    expect(await trackMomentTask(deps, first)).toEqual({ status: 'active' });

    // The same images again: the cached media ids, no upload.
    const second = await newTask({ images: [{ assetId: b }] });
    expect(await startMomentTask(deps, second)).toEqual({ status: 'creating' });
    expect(calls('media/upload_attachment')).toBe(2);

    // Older than the refresh age: uploaded again before WeCom's 3 days run out.
    h.clock.advance(MEDIA_REFRESH_MS);
    const third = await newTask({ images: [{ assetId: b }] });
    expect(await startMomentTask(deps, third)).toEqual({ status: 'creating' });
    expect(calls('media/upload_attachment')).toBe(3);

    // WeCom no longer knows the cached id (40007): uploaded again and the task created, once.
    const cached = (await MediaAssetModel.findById(b).lean())?.attachmentUploads.find((u) => u.corpId === corpId);
    const world = h.sandbox.world.corp(corpId);
    if (world) world.media = world.media.filter((m) => m.media_id !== cached?.mediaId);
    h.sandbox.context.calls.clear();
    const fourth = await newTask({ images: [{ assetId: b }] });
    expect(await startMomentTask(deps, fourth)).toEqual({ status: 'creating' });
    expect(calls('externalcontact/add_moment_task')).toBe(2);
    expect(calls('media/upload_attachment')).toBe(1);
    expect((await MomentTaskModel.findById(fourth).lean())?.jobid).toBeTruthy();
  });

  it('creates a link task with its cover uploaded as a Moments attachment', async () => {
    const cover = await asset(pngOf(600, 600));
    const id = await newTask({ link: { title: '新款汉兰达', url: 'https://dealer.example.com/launch', cover } });
    expect(await startMomentTask(deps, id)).toEqual({ status: 'creating' });
    const call = h.sandbox.context.calls.list({ endpoint: 'externalcontact/add_moment_task' }).at(-1);
    expect(call?.body).toMatchObject({
      attachments: [{ msgtype: 'link', link: { title: '新款汉兰达', url: 'https://dealer.example.com/launch' } }],
    });
  });

  it("records a permanent upload refusal in words, and leaves a retryable one pending for the job's retry", async () => {
    const tooLarge = await asset(pngOf(1200, 1200));
    const momentsBefore = h.sandbox.world.corp(corpId)?.moments.length;
    const refused = await newTask({ images: [{ assetId: tooLarge }] });
    expect(await startMomentTask(deps, refused)).toEqual({ status: 'failed' });
    const failed = await MomentTaskModel.findById(refused).lean();
    expect(failed?.error).toMatch(/41081.*分辨率/);
    expect(h.sandbox.world.corp(corpId)?.moments.length).toBe(momentsBefore);

    const gone = await newTask({ images: [{ assetId: '0123456789abcdef01234567' }] });
    expect(await startMomentTask(deps, gone)).toEqual({ status: 'failed' });
    expect((await MomentTaskModel.findById(gone).lean())?.error).toMatch(/已不存在/);

    const fine = await asset(pngOf(640, 480));
    const busy = await newTask({ images: [{ assetId: fine }] });
    h.sandbox.context.faults.add({
      endpoint: 'media/upload_attachment',
      count: 20,
      kind: 'errcode',
      errcode: -1,
      errmsg: 'system busy',
    });
    await expect(startMomentTask(deps, busy)).rejects.toMatchObject({ errcode: -1 });
    expect((await MomentTaskModel.findById(busy).lean())?.status).toBe('pending');
    // The tick does not stop on it either: the task stays pending for the next run.
    expect(await trackMomentTask(deps, busy)).toEqual({ status: 'pending' });
    h.sandbox.context.faults.clear();
    expect(await startMomentTask(deps, busy)).toEqual({ status: 'creating' });
  });

  it('puts a task WeCom answered with a retryable code back to pending, and records a permanent one in words', async () => {
    const img = await asset(pngOf(640, 480));
    const id = await newTask({ images: [{ assetId: img }] });
    h.sandbox.context.faults.add({
      endpoint: 'externalcontact/add_moment_task',
      count: 20,
      kind: 'errcode',
      errcode: 41078,
      errmsg: 'too many tasks',
    });
    await expect(startMomentTask(deps, id)).rejects.toMatchObject({ errcode: 41078 });
    expect((await MomentTaskModel.findById(id).lean())?.status).toBe('pending');
    h.sandbox.context.faults.clear();
    h.sandbox.context.faults.add({
      endpoint: 'externalcontact/add_moment_task',
      count: 1,
      kind: 'errcode',
      errcode: 41211,
      errmsg: 'moments not enabled',
    });
    expect(await startMomentTask(deps, id)).toEqual({ status: 'failed' });
    expect((await MomentTaskModel.findById(id).lean())?.error).toMatch(/41211.*未开通客户朋友圈/);
  });
});
