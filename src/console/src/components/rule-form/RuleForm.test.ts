import { flushPromises } from '@vue/test-utils';
import { describe, expect, it, vi } from 'vitest';
import { nextTick, reactive } from 'vue';
import { mountWithConsole } from '../../testing/mount.js';
import OffsetInput from './OffsetInput.vue';
import RuleForm from './RuleForm.vue';
import { newAction, newRule, toDraft, TRIGGER_TYPES, type TriggerType } from './rule-draft.js';

const options = {
  corpId: 'ww1',
  corps: [{ corpId: 'ww1', displayName: '城南店', writable: true }],
  dateFields: ['deliveryDate', 'insuranceExpiry', 'lastServiceDate', 'birthday'] as const,
  tags: [{ group: '客户阶段', name: '保客' }],
  channelStates: ['delivery_0501'],
  deliveryStatePrefixes: ['delivery'],
  vehicleModels: ['星途 L'],
};

/** The fields each trigger type shows (and only it). */
const triggerFields: Record<TriggerType, string[]> = {
  'customer.added': ['rule-trigger-state-mode'],
  'customer.tag_added': ['rule-trigger-tag'],
  'customer.tag_removed': ['rule-trigger-tag'],
  'customer.became_owner': [],
  'vehicle.linked': [],
  'customer.lost': [],
  'service.overdue': [],
  'owner.unreachable': ['rule-trigger-fallback-advisor'],
  'lead.created': [],
  'lead.stage_changed': [],
  date: ['rule-trigger-field', 'rule-trigger-offset'],
  inactivity: ['rule-trigger-days'],
};
const allTriggerFields = [...new Set(Object.values(triggerFields).flat())];

// Mounting the whole form takes seconds on a loaded 2-core machine (over 20 s per test seen while
// the whole suite ran beside other work); the limit guards against a hang, not against slowness.
describe('RuleForm', { timeout: 90_000 }, () => {
  it("renders each trigger type's fields", async () => {
    const rule = reactive(newRule('ww1'));
    const form = await mountWithConsole(RuleForm, {
      props: {
        rule,
        options: { ...options, dateFields: [...options.dateFields] },
        errors: {},
        canAuthorAllCorps: false,
      },
    });
    for (const type of TRIGGER_TYPES) {
      rule.trigger.type = type;
      await nextTick();
      const shown = allTriggerFields.filter((f) => form.find(`[data-test="${f}"]`).exists());
      expect({ type, shown }).toEqual({ type, shown: triggerFields[type] });
    }
  });

  it('renders the fields of every action type, and the conditions and guards', async () => {
    const rule = reactive(newRule('ww1'));
    const form = await mountWithConsole(RuleForm, { props: { rule, errors: {}, canAuthorAllCorps: false } });
    for (const type of ['tag', 'welcome', 'follow_up', 'message_customer', 'notify_advisor'] as const)
      await form.find(`[data-test="rule-add-action-${type}"]`).trigger('click');
    expect(rule.actions.map((a) => a.type)).toEqual([
      'tag',
      'welcome',
      'follow_up',
      'message_customer',
      'notify_advisor',
    ]);
    for (const f of [
      'rule-action-0-add-tags',
      'rule-action-0-remove-tags',
      'rule-action-1-text',
      'rule-action-1-attachments-add',
      'rule-action-2-title',
      'rule-action-2-talk-track',
      'rule-action-2-due-in',
      'rule-action-2-at',
      'rule-action-2-sla',
      'rule-action-2-escalate',
      'rule-action-3-text',
      'rule-action-4-format',
      'rule-action-4-text',
      'rule-cond-channel-mode',
      'rule-cond-has-tags',
      'rule-cond-lacks-tags',
      'rule-cond-lifecycle',
      'rule-cond-models',
      'rule-cond-age-min',
      'rule-cond-age-max',
      'rule-cond-advisors',
      'rule-cond-departments',
      'rule-cond-customer-type',
      'rule-guard-quiet',
      'rule-guard-cap',
    ]) {
      expect(form.find(`[data-test="${f}"]`).exists(), f).toBe(true);
    }
    await form.find('[data-test="rule-action-1-attachments-add"]').trigger('click');
    await form.find('input[data-test="rule-action-1-attachments-0-url"]').setValue('https://example.com/manual');
    expect(rule.actions[1]?.attachments[0]).toMatchObject({ type: 'link', url: 'https://example.com/manual' });
  });

  it('offers owner.unreachable: vehicle conditions, a fallback advisor and follow-up only, and sends them', async () => {
    const rule = reactive(newRule('ww1'));
    rule.name = '加企微';
    const form = await mountWithConsole(RuleForm, {
      props: {
        rule,
        options: { ...options, dateFields: [...options.dateFields] },
        errors: {},
        canAuthorAllCorps: false,
      },
    });
    const has = (f: string) => form.find(`[data-test="${f}"]`).exists();
    expect(has('rule-cond-lifecycle')).toBe(true);
    expect(has('rule-vehicle-models')).toBe(false);

    await form.find('[data-test="rule-trigger"]').trigger('click');
    await flushPromises();
    // Each mounted select keeps its dropdown in the body: this form's is the last one.
    const choice = [...document.body.querySelectorAll<HTMLElement>('.el-select-dropdown__item')]
      .filter((o) => o.textContent?.trim() === '车主未加企微（DMS 车辆）')
      .at(-1);
    expect(choice).toBeDefined();
    choice!.click();
    await flushPromises();
    expect(rule.trigger.type).toBe('owner.unreachable');

    expect(form.find('[data-test="rule-trigger-explain"]').text()).toContain('加企微');
    for (const f of [
      'rule-cond-channel-mode',
      'rule-cond-has-tags',
      'rule-cond-lacks-tags',
      'rule-cond-lifecycle',
      'rule-cond-models',
      'rule-cond-age-min',
      'rule-cond-advisors',
      'rule-cond-departments',
      'rule-cond-customer-type',
    ])
      expect(has(f), f).toBe(false);
    expect(
      form.findAll('[data-test^="rule-add-action-"]').map((b) => b.attributes('data-test')),
      'only follow-up can be added',
    ).toEqual(['rule-add-action-follow_up']);

    await form.find('input[data-test="rule-trigger-fallback-advisor"]').setValue('lisi');
    rule.vehicle.models = ['星途 L'];
    await form.find('[data-test="rule-vehicle-delivery-min"] input').setValue('30');
    await form.find('[data-test="rule-vehicle-delivery-max"] input').setValue('365');
    await form.find('[data-test="rule-vehicle-service-min"] input').setValue('180');
    await form.find('input[data-test="rule-vehicle-sales-advisors"]').setValue('zhangwei, lina');
    await form.find('[data-test="rule-add-action-follow_up"]').trigger('click');
    await form.find('input[data-test="rule-action-0-title"]').setValue('请加车主企微');
    await flushPromises();

    expect(toDraft(rule)).toEqual({
      name: '加企微',
      scope: 'ww1',
      priority: 100,
      trigger: { type: 'owner.unreachable', fallbackAdvisor: 'lisi' },
      conditions: {
        vehicle: {
          models: ['星途 L'],
          daysSinceDelivery: { min: 30, max: 365 },
          daysSinceService: { min: 180 },
          salesAdvisors: ['zhangwei', 'lina'],
        },
      },
      actions: [{ type: 'follow_up', title: '请加车主企微', dueIn: '0d', sla: '24h' }],
      guards: { monthlyCap: 4 },
    });
    expect(has('rule-vehicle-models')).toBe(true);
  });

  it('shows a 422 message at the field it concerns', async () => {
    const rule = reactive(newRule('ww1'));
    rule.actions.push(newAction('welcome'), newAction('follow_up'));
    const form = await mountWithConsole(RuleForm, {
      props: {
        rule,
        errors: { 'actions.0.text': 'the text cannot be empty', 'actions.1.dueIn': 'use a duration like 3d or 48h' },
        canAuthorAllCorps: false,
      },
    });
    await flushPromises();
    const errorOf = (dataTest: string) =>
      form
        .find(`[data-test="${dataTest}"]`)
        .element.closest('.el-form-item')
        ?.querySelector('.el-form-item__error')
        ?.textContent?.trim();
    // Element Plus shows a form item's error after a short debounce: poll for it.
    await vi.waitFor(() => expect(errorOf('rule-action-0-text')).toBe('the text cannot be empty'), { timeout: 5000 });
    expect(errorOf('rule-action-1-due-in')).toBe('use a duration like 3d or 48h');
    expect(errorOf('rule-name')).toBeUndefined();
  });
});

describe('OffsetInput', () => {
  it('shows the schema offset in words and emits the schema form of what is typed', async () => {
    const input = await mountWithConsole(OffsetInput, { props: { modelValue: '-60d at 09:30', dataTest: 'offset' } });
    expect((input.find('input').element as HTMLInputElement).value).toBe('60 天前 09:30');
    await input.find('input').setValue('150 天后 10:00');
    expect(input.emitted('update:modelValue')?.at(-1)).toEqual(['+150d at 10:00']);
    expect(input.find('[data-test="offset-parsed"]').text()).toBe('= +150d at 10:00');
    await input.setProps({ modelValue: '+150d at 10:00' });
    expect((input.find('input').element as HTMLInputElement).value).toBe('150 天后 10:00');
    await input.find('input').setValue('下周');
    expect(input.emitted('update:modelValue')?.at(-1)).toEqual(['下周']);
    expect(input.find('[data-test="offset-parsed"]').text()).toContain('150 天后 10:00');
  });
});
