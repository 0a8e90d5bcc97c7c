/**
 * Campaign rules through the whole bot: a welcome rule for the delivery channel, an add delivered four
 * times by the sandbox, exactly one welcome with the rule's content, and the rule's tags.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ExecutionModel } from '../../src/domain/rules/engine/execution.model.js';
import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';
import { startBotHarness, type BotHarness } from './bot.test-support.js';

let bot: BotHarness;
beforeAll(async () => {
  bot = await startBotHarness();
  const rules = new RuleService(() => bot.clock.now());
  await rules.create(
    { role: 'marketing', corps: [bot.corpId], tokenId: 'e2e' },
    ruleCreateSchema.parse({
      name: '交车欢迎（测试）',
      scope: bot.corpId,
      enabled: true,
      priority: 100,
      trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
      actions: [
        { type: 'welcome', text: '恭喜提车！我是您的专属顾问。' },
        { type: 'tag', add: [{ group: '交车活动', name: '2026春季交车' }] },
      ],
    }),
  );
}, 60_000);
afterAll(async () => {
  await bot?.stop();
});

describe('delivery welcome campaign', () => {
  it("one welcome with the rule's text and the rule's tag, although WeCom delivered the add four times", async () => {
    const { externalUserId, delivery } = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      customer: { name: '测试客户壬' },
      state: 'delivery_spring',
    });
    for (let i = 0; i < 3; i++) await bot.sandbox.driver.redeliver(delivery?.id ?? -1);
    await bot.settle();

    const welcomes =
      bot.sandbox.world.corp(bot.corpId)?.welcomes.filter((w) => w.external_userid === externalUserId) ?? [];
    expect(welcomes).toHaveLength(1);
    expect(welcomes[0]).toMatchObject({ userid: 'lina', text: '恭喜提车！我是您的专属顾问。' });
    const campaignTag = bot.sandbox.world.corp(bot.corpId)?.tags.find((t) => t.name === '2026春季交车')?.id;
    const follow = bot.sandbox.world
      .corp(bot.corpId)
      ?.follows.find((f) => f.external_userid === externalUserId && f.userid === 'lina');
    expect(campaignTag).toBeDefined();
    expect(follow?.tagIds).toContain(campaignTag);
    // The welcome lane records its execution before the customer exists (subject ext:…); the
    // engine records the rule's other actions for the stored customer. One welcome in all.
    expect(await ExecutionModel.countDocuments({ actions: { $elemMatch: { type: 'welcome', status: 'done' } } })).toBe(
      1,
    );
  });

  it('an add through another channel gets no welcome', async () => {
    const { externalUserId } = await bot.sandbox.driver.addCustomer({
      corpId: bot.corpId,
      userid: 'lina',
      customer: { name: '测试客户癸' },
      state: 'showroom_qr',
    });
    await bot.settle();
    expect(bot.sandbox.world.corp(bot.corpId)?.welcomes.filter((w) => w.external_userid === externalUserId)).toEqual(
      [],
    );
  });
});
