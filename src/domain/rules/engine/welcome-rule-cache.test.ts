import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useTestDatabase } from '../../../testing/mongo.js';
import { RuleModel } from '../rule.model.js';
import { ruleCreateSchema } from '../rule.schema.js';
import { RuleService } from '../rule.service.js';
import { WelcomeRuleCache } from './welcome-rule-cache.js';

const corpId = 'wwcachecorp01';
const admin = { role: 'admin' as const, corps: '*' as const, tokenId: 'test' };
const welcomeRule = (name: string, priority: number, extra: Record<string, unknown> = {}) =>
  ruleCreateSchema.parse({
    name,
    scope: corpId,
    enabled: true,
    priority,
    trigger: { type: 'customer.added' },
    actions: [{ type: 'welcome', text: name }],
    ...extra,
  });
let db: Awaited<ReturnType<typeof useTestDatabase>>;
beforeAll(async () => {
  db = await useTestDatabase('welcome-cache');
});
afterAll(async () => {
  await db?.drop();
});

describe('WelcomeRuleCache', () => {
  it("serves a corp's welcome rules from memory for its TTL, sees writes made in this process at once, and others after the TTL", async () => {
    let t = 0;
    const cache = new WelcomeRuleCache(5000, () => t);
    const rules = new RuleService(() => new Date());
    const now = new Date();
    await rules.create(admin, welcomeRule('欢迎 A', 10));
    expect((await cache.activeWelcomeRules(corpId, now)).map((r) => r.body.name)).toEqual(['欢迎 A']);

    // Written behind mongoose's back (another process, in effect): not seen until the TTL passes.
    const b = (await RuleModel.findOne({ scope: corpId }).lean())!;
    await RuleModel.collection.insertOne({
      ...b,
      _id: undefined as never,
      name: '欢迎 B',
      priority: 20,
      body: { ...b.body, name: '欢迎 B', priority: 20 },
    });
    t = 4999;
    expect((await cache.activeWelcomeRules(corpId, now)).map((r) => r.body.name)).toEqual(['欢迎 A']);
    t = 5000;
    expect((await cache.activeWelcomeRules(corpId, now)).map((r) => r.body.name)).toEqual(['欢迎 B', '欢迎 A']);

    // A write through the rule service in this process clears the cache immediately.
    await rules.create(admin, welcomeRule('欢迎 C', 30));
    expect((await cache.activeWelcomeRules(corpId, now)).map((r) => r.body.name)).toEqual([
      '欢迎 C',
      '欢迎 B',
      '欢迎 A',
    ]);
    cache.close();
  });

  it('applies the active window at use, so a cached rule expires on time', async () => {
    let t = 0;
    const cache = new WelcomeRuleCache(60_000, () => t);
    const until = new Date(Date.now() + 60_000);
    await new RuleService(() => new Date()).create(
      admin,
      welcomeRule('限时欢迎', 99, { scope: 'wwcachecorp02', activeUntil: until.toISOString() }),
    );
    expect((await cache.activeWelcomeRules('wwcachecorp02', new Date())).map((r) => r.body.name)).toEqual(['限时欢迎']);
    t = 1;
    expect(await cache.activeWelcomeRules('wwcachecorp02', new Date(until.getTime() + 1))).toEqual([]);
    cache.close();
  });
});
