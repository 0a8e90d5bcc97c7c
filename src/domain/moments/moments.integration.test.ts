/**
 * A Moments task through the sandbox: created, tracked, the rest reminded, tracked to completion;
 * and a stored task created by the worker's step, tracked to done, the rest reminded once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorpApi } from '../../wecom/corp-api.js';
import { startCustomerHarness, type CustomerHarness } from '../customers/customer.test-support.js';
import { MomentTaskModel } from './moment-task.model.js';
import {
  createMomentTask,
  momentKpis,
  MOMENT_TIMING,
  startMomentTask,
  trackMomentTask,
  type MomentDeps,
} from './moment-tasks.js';
import { momentProgress, publishMomentTask, remindUnpublished } from './moment.service.js';

let h: CustomerHarness;
let corpId: string;
let api: CorpApi;

beforeAll(async () => {
  h = await startCustomerHarness('moments');
  [corpId] = h.sandbox.world.seed({
    corps: [
      {
        members: [
          { userid: 'zhangwei', name: '张伟' },
          { userid: 'lina', name: '李娜' },
        ],
        tagGroups: [{ group_name: '意向车型', tags: [{ name: '汉兰达' }] }],
        customers: [
          {
            external_userid: 'wmMoment0000000000000000000001',
            name: '甲',
            follows: [{ userid: 'zhangwei', tags: ['汉兰达'] }],
          },
          {
            external_userid: 'wmMoment0000000000000000000002',
            name: '乙',
            follows: [{ userid: 'lina', tags: ['汉兰达'] }],
          },
          { external_userid: 'wmMoment0000000000000000000003', name: '丙', follows: [{ userid: 'lina' }] },
        ],
      },
    ],
  }).corpIds as [string];
  api = h.depsFor(corpId).api;
});
afterAll(async () => {
  await h?.close();
});

describe('a Moments task', () => {
  it('is tracked from creation to every advisor published, reminding the rest', async () => {
    const tag = h.sandbox.world.corp(corpId)?.tags.find((t) => t.name === '汉兰达')?.id ?? '';
    const jobid = await publishMomentTask(api, {
      advisors: ['zhangwei', 'lina'],
      tagIds: [tag],
      text: '新款汉兰达到店',
    });
    let p = await momentProgress(api, jobid);
    expect(p).toMatchObject({ published: [], pending: ['lina', 'zhangwei'] });
    await h.sandbox.driver.publishMoment({ corpId, momentId: p?.momentId ?? '', userid: 'zhangwei' });
    p = await momentProgress(api, jobid);
    expect(p).toMatchObject({ published: ['zhangwei'], pending: ['lina'], reach: { zhangwei: 1 } });
    expect(await remindUnpublished(api, p?.momentId ?? '', p?.pending ?? [])).toBe(1);
    expect(h.sandbox.world.corp(corpId)?.messages.at(-1)?.touser).toEqual(['lina']);
    await h.sandbox.driver.publishMoment({ corpId, momentId: p?.momentId ?? '', userid: 'lina' });
    p = await momentProgress(api, jobid);
    // Only the tagged customer of lina sees the post.
    expect(p).toMatchObject({ published: ['lina', 'zhangwei'], pending: [], reach: { lina: 1, zhangwei: 1 } });
    await expect(api.addMomentTask({})).rejects.toMatchObject({ errcode: 41089 });
  });
});

describe('a stored Moments task', () => {
  it('is created once, learns its moment id, records who published with reach, reminds the rest once, and ends done', async () => {
    const deps: MomentDeps = { corpId, api, clock: h.clock, logger: h.depsFor(corpId).logger };
    const tag = h.sandbox.world.corp(corpId)?.tags.find((t) => t.name === '汉兰达')?.id ?? '';
    const id = await createMomentTask(
      corpId,
      { name: '汉兰达上市', text: '新款汉兰达到店，欢迎试驾', tagIds: [tag], advisors: ['zhangwei', 'lina'] },
      'user:mkt',
      h.clock.now(),
    );
    h.sandbox.context.calls.clear();
    expect(await startMomentTask(deps, id)).toEqual({ status: 'creating' });
    expect(await startMomentTask(deps, id)).toEqual({ status: 'claimed_elsewhere' });
    expect(h.sandbox.context.calls.list({ endpoint: 'externalcontact/add_moment_task' })).toHaveLength(1);

    expect(await trackMomentTask(deps, id)).toEqual({ status: 'active' });
    let t = await MomentTaskModel.findById(id).lean();
    expect(t?.momentId).toBeTruthy();
    expect(t?.publishStatus.map((p) => [p.userid, p.published])).toEqual([
      ['lina', false],
      ['zhangwei', false],
    ]);
    await h.sandbox.driver.publishMoment({ corpId, momentId: t?.momentId ?? '', userid: 'zhangwei' });
    // Before the reminder time: recorded, nobody reminded.
    expect(await trackMomentTask(deps, id)).toEqual({ status: 'active' });
    t = await MomentTaskModel.findById(id).lean();
    expect(t?.publishStatus.find((p) => p.userid === 'zhangwei')).toMatchObject({ published: true, reach: 1 });
    expect(t?.remindedAt).toBeUndefined();

    h.clock.advance(MOMENT_TIMING.remindAfterMs);
    const sentBefore = h.sandbox.world.corp(corpId)?.messages.length ?? 0;
    expect(await trackMomentTask(deps, id)).toEqual({ status: 'active', reminded: 1 });
    expect(h.sandbox.world.corp(corpId)?.messages.at(-1)?.touser).toEqual(['lina']);
    expect(await trackMomentTask(deps, id)).toEqual({ status: 'active' });
    expect(h.sandbox.world.corp(corpId)?.messages.length).toBe(sentBefore + 1);

    await h.sandbox.driver.publishMoment({ corpId, momentId: t?.momentId ?? '', userid: 'lina' });
    h.sandbox.context.calls.clear();
    expect(await trackMomentTask(deps, id)).toEqual({ status: 'done' });
    // zhangwei's reach was known: only lina's is asked.
    expect(h.sandbox.context.calls.list({ endpoint: 'externalcontact/get_moment_send_result' })).toHaveLength(1);
    t = await MomentTaskModel.findById(id).lean();
    expect(t?.reminded).toEqual(['lina']);
    expect(await trackMomentTask(deps, id)).toEqual({ status: 'done' });
    expect(
      await momentKpis(corpId, { from: new Date(h.clock.nowMs() - 7 * 86_400_000), to: new Date(h.clock.nowMs() + 1) }),
    ).toEqual({ tasks: 1, advisors: 2, published: 2, publishedShare: 1, reach: 2 });
  });

  it('records WeCom refusing the task instead of retrying it', async () => {
    const deps: MomentDeps = { corpId, api, clock: h.clock, logger: h.depsFor(corpId).logger };
    const id = await createMomentTask(
      corpId,
      { name: 'x', text: 'y', tagIds: [], advisors: ['lina'] },
      'user:mkt',
      h.clock.now(),
    );
    h.sandbox.context.faults.add({
      endpoint: 'externalcontact/add_moment_task',
      count: 1,
      kind: 'errcode',
      errcode: 41211,
      errmsg: 'moments not enabled',
    });
    expect(await startMomentTask(deps, id)).toEqual({ status: 'failed' });
    expect((await MomentTaskModel.findById(id).lean())?.error).toMatch(/41211/);
    expect(await trackMomentTask(deps, id)).toEqual({ status: 'failed' });
  });
});
