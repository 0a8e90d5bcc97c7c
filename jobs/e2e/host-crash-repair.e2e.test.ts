/**
 * What a host crash with `appendfsync everysec` can leave behind (docs/reliability.md, "Host
 * crash"): an add callback WeCom saw acknowledged whose job Redis lost, so the bot never stored
 * the customer nor tagged them. The nightly reconciliation must repair the customer, its
 * relationship, the owner state and the owner tag (not the welcome: its code has expired).
 */
import { describe, expect, it } from 'vitest';
import { CustomerModel } from '../../src/domain/customers/customer.model.js';
import { reconcileCorp } from '../../src/domain/customers/reconcile.service.js';
import { RelationshipModel } from '../../src/domain/customers/relationship.model.js';
import { DomainEventRecordModel } from '../../src/domain/events/domain-event-record.model.js';
import { OutboxEventModel } from '../../src/domain/events/outbox-event.model.js';
import { follow, ownerTagId, useBotHarness, type BotHarness } from './bot.test-support.js';

let bot: BotHarness;
useBotHarness((harness) => (bot = harness));

describe('reconciliation after a lost acknowledged callback', () => {
  it('brings back the customer, the relationship, the owner state and the 保客 tag', async () => {
    const { externalUserId, delivery } = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'zhangwei',
      customer: { name: '测试客户丙' },
      state: 'delivery_2026_06',
    });
    expect(delivery?.ok).toBe(true);
    await bot.settle('the add to be processed');
    expect(follow(bot, 'zhangwei', externalUserId)?.tagIds).toContain(ownerTagId(bot));

    // The loss: everything the lost job would have done is gone, in MongoDB and in WeCom.
    const customer = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }, { _id: 1 }).lean();
    await Promise.all([
      CustomerModel.deleteOne({ _id: customer?._id }),
      RelationshipModel.deleteMany({ corpId: bot.corpId, externalUserId }),
      DomainEventRecordModel.deleteMany({ externalUserId }),
      OutboxEventModel.deleteMany({ 'event.externalUserId': externalUserId }),
    ]);
    const stale = follow(bot, 'zhangwei', externalUserId);
    if (stale) stale.tagIds = stale.tagIds.filter((id) => id !== ownerTagId(bot));
    expect(await CustomerModel.countDocuments({ corpId: bot.corpId, externalUserId })).toBe(0);

    // The nightly run, as the maintenance job calls it.
    const summary = await reconcileCorp(
      {
        corpId: bot.corpId,
        api: bot.ctx.wecom.forCorp({ corpId: bot.corpId, secret: bot.corp.secret, agentId: bot.corp.agentId }),
        pd: bot.ctx.pd,
        clock: bot.clock,
        queues: bot.ctx.queues,
        logger: bot.ctx.logger,
      },
      { runId: 'after-host-crash' },
    );
    expect(summary.added).toBeGreaterThanOrEqual(1);
    await bot.settle('the repaired customer to be processed');

    const repaired = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
    expect(repaired?.lifecycle).toMatchObject({ stage: 'owner', reason: 'delivery_channel' });
    expect(repaired?.responsibleUserid).toBe('zhangwei');
    expect(await RelationshipModel.findOne({ corpId: bot.corpId, externalUserId }).lean()).toMatchObject({
      userid: 'zhangwei',
      state: 'delivery_2026_06',
      status: 'active',
    });
    expect(follow(bot, 'zhangwei', externalUserId)?.tagIds).toContain(ownerTagId(bot));
    expect(
      await DomainEventRecordModel.countDocuments({ type: 'customer.added', externalUserId, status: 'processed' }),
    ).toBe(1);
    expect(await OutboxEventModel.countDocuments({ 'event.externalUserId': externalUserId, status: 'pending' })).toBe(
      0,
    );
  });

  it('an owner through the owner tag (已购车, no delivery channel) is an owner again, tagged 保客', async () => {
    const { externalUserId } = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'liuyang',
      customer: { name: '测试客户丁' },
    });
    await bot.settle('the add to be processed');
    // The advisor marks the purchase; the bot then loses everything about this customer.
    const bought = bot.sandbox.world.corp(bot.corpId)?.tags.find((t) => t.name === '已购车')?.id;
    const rel = follow(bot, 'liuyang', externalUserId);
    if (!rel || !bought) throw new Error('the demo world has no liuyang relationship or 已购车 tag');
    rel.tagIds = [...rel.tagIds, bought];
    await Promise.all([
      CustomerModel.deleteMany({ corpId: bot.corpId, externalUserId }),
      RelationshipModel.deleteMany({ corpId: bot.corpId, externalUserId }),
    ]);

    await reconcileCorp(
      {
        corpId: bot.corpId,
        api: bot.ctx.wecom.forCorp({ corpId: bot.corpId, secret: bot.corp.secret, agentId: bot.corp.agentId }),
        pd: bot.ctx.pd,
        clock: bot.clock,
        queues: bot.ctx.queues,
        logger: bot.ctx.logger,
      },
      { runId: 'after-host-crash-2' },
    );
    await bot.settle('the repaired customer to be processed');
    const repaired = await CustomerModel.findOne({ corpId: bot.corpId, externalUserId }).lean();
    expect(repaired?.lifecycle).toMatchObject({ stage: 'owner', reason: 'owner_tag' });
    expect(follow(bot, 'liuyang', externalUserId)?.tagIds).toContain(ownerTagId(bot));
  });
});
