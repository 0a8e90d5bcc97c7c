import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleModel } from '../../src/domain/rules/rule.model.js';
import { ruleExamples } from '../../src/domain/rules/rule-examples.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';

/**
 * The demo's delivery-care call: the day after a customer becomes an owner, at 10:00, the advisor
 * gets a follow-up; overdue after 4 hours, escalated to the manager after 8 (short, for the demo).
 */
export const DELIVERY_CARE_RULE = {
  name: '交车次日关怀回访',
  scope: 'all',
  enabled: true,
  priority: 150,
  trigger: { type: 'customer.became_owner' },
  actions: [
    {
      type: 'follow_up',
      title: '交车次日关怀回访',
      talkTrack: '{客户}您好，我是{顾问}，昨天提车后{车型}用得还顺手吗？有任何问题随时找我。',
      dueIn: '1d',
      at: '10:00',
      sla: '4h',
      escalation: { after: '8h', to: 'manager' },
    },
  ],
};

/** Loads the README's example campaigns and the demo's delivery-care rule once (by name), as an admin would through the API. */
export async function seedExampleRules(now: () => Date): Promise<{ created: number; existing: number }> {
  const service = new RuleService(now);
  let created = 0;
  let existing = 0;
  for (const example of [...ruleExamples, { rule: DELIVERY_CARE_RULE }]) {
    if (await RuleModel.exists({ name: example.rule.name, deletedAt: { $exists: false } })) {
      existing++;
      continue;
    }
    await service.create({ role: 'admin', corps: '*', tokenId: 'dev-seed' }, ruleCreateSchema.parse(example.rule));
    created++;
  }
  return { created, existing };
}
