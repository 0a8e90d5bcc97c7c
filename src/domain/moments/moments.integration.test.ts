/** A Moments task through the sandbox: created, tracked, the rest reminded, tracked to completion. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CorpApi } from '../../wecom/corp-api.js';
import { startCustomerHarness, type CustomerHarness } from '../customers/customer.test-support.js';
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
