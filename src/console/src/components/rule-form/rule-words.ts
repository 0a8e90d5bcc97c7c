import type { DraftTrigger } from './rule-draft.js';
import { offsetToWords } from './durations.js';

type T = (key: string, values?: Record<string, unknown>) => string;

/** A trigger in a sentence for the list: "客户添加（渠道以 delivery 开头）", "交车日期 150 天后 10:00". */
export function triggerInWords(trigger: DraftTrigger, t: T, locale: string): string {
  const name = t(`ruleForm.triggers.${trigger.type.replace('.', '_')}`);
  switch (trigger.type) {
    case 'customer.added':
      if (!trigger.state) return name;
      return t(trigger.state.equals !== undefined ? 'ruleForm.words.stateEquals' : 'ruleForm.words.statePrefix', {
        name,
        state: trigger.state.equals ?? trigger.state.prefix,
      });
    case 'customer.tag_added':
    case 'customer.tag_removed':
      return `${name}：${trigger.tag.group}/${trigger.tag.name}`;
    case 'date':
      return `${t(`ruleForm.fields.dateFields.${trigger.field}`)} ${offsetToWords(trigger.offset, locale)}`;
    case 'inactivity':
      return t('ruleForm.words.inactivity', { days: trigger.days });
    default:
      return name;
  }
}
