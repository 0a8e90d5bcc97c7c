import { ruleCreateSchema } from '../../src/domain/rules/rule.schema.js';
import { RuleModel } from '../../src/domain/rules/rule.model.js';
import { ruleExamples } from '../../src/domain/rules/rule-examples.js';
import { RuleService } from '../../src/domain/rules/rule.service.js';

/** Loads the README's example campaigns once (by name), as an admin would through the API. */
export async function seedExampleRules(now: () => Date): Promise<{ created: number; existing: number }> {
  const service = new RuleService(now);
  let created = 0;
  let existing = 0;
  for (const example of ruleExamples) {
    if (await RuleModel.exists({ name: example.rule.name, deletedAt: { $exists: false } })) {
      existing++;
      continue;
    }
    await service.create({ role: 'admin', corps: '*', tokenId: 'dev-seed' }, ruleCreateSchema.parse(example.rule));
    created++;
  }
  return { created, existing };
}
