import { describe, expect, it } from 'vitest';
import type { RuleDraft } from '../../lib/api-types.js';
import { fromDraft, newAction, newRule, tagRef, toDraft } from './rule-draft.js';

const full: RuleDraft = {
  name: '全字段',
  description: '说明',
  scope: 'ww1',
  activeFrom: '2026-06-01T00:00:00+08:00',
  activeUntil: '2026-12-31T00:00:00+08:00',
  priority: 300,
  trigger: { type: 'customer.added', state: { equals: 'delivery_01' } },
  conditions: {
    channel: { prefix: 'delivery' },
    hasTags: [{ group: 'g', name: 'a' }],
    lacksTags: [{ group: 'g', name: 'b' }],
    lifecycle: ['owner'],
    vehicleModels: ['星途 L'],
    vehicleAgeMonths: { min: 1, max: 12 },
    advisors: ['zhangwei'],
    departments: [2],
    customerType: 'wechat',
  },
  actions: [
    { type: 'tag', add: [{ group: 'g', name: 'c' }], remove: [] },
    {
      type: 'welcome',
      text: '欢迎',
      attachments: [
        { type: 'link', title: '手册', url: 'https://example.com/m', desc: 'd' },
        { type: 'image', assetId: 'a'.repeat(24) },
        { type: 'miniprogram', title: 'mp', appid: 'wx0123456789abcdef', page: 'p/i', picAssetId: 'b'.repeat(24) },
      ],
    },
    {
      type: 'follow_up',
      title: '回访',
      talkTrack: '{客户}您好',
      dueIn: '3d',
      at: '10:00',
      sla: '48h',
      escalation: { after: '24h', to: 'direct_leader', flagAfter: '72h', reassign: true },
    },
    { type: 'message_customer', text: '你好', attachments: [] },
    { type: 'notify_advisor', format: 'card', title: '提醒', text: '请跟进' },
  ],
  guards: { quietHours: null, monthlyCap: 2 },
};

describe('rule form model ↔ API body', () => {
  it('round-trips a rule that uses every condition, action and attachment type', () => {
    expect(toDraft(fromDraft(full))).toEqual(full);
  });

  it('round-trips each trigger type', () => {
    const triggers: RuleDraft['trigger'][] = [
      { type: 'customer.added' },
      { type: 'customer.tag_added', tag: { group: 'g', name: 't' } },
      { type: 'customer.tag_removed', tag: { group: 'g', name: 't' } },
      { type: 'customer.became_owner' },
      { type: 'vehicle.linked' },
      { type: 'customer.lost' },
      { type: 'service.overdue' },
      { type: 'owner.unreachable' },
      { type: 'owner.unreachable', fallbackAdvisor: 'lisi' },
      { type: 'date', field: 'insuranceExpiry', offset: '-60d at 09:30' },
      { type: 'inactivity', days: 90 },
    ];
    for (const trigger of triggers) expect(toDraft(fromDraft({ ...full, trigger })).trigger).toEqual(trigger);
  });

  it('round-trips an owner.unreachable rule: fallbackAdvisor and every vehicle condition exactly', () => {
    const owner: RuleDraft = {
      name: '加企微',
      scope: 'ww1',
      priority: 100,
      trigger: { type: 'owner.unreachable', fallbackAdvisor: 'lisi' },
      conditions: {
        vehicle: {
          models: ['星途 L', '瑶光'],
          daysSinceDelivery: { min: 0, max: 365 },
          daysSinceService: { min: 180 },
          salesAdvisors: ['zhangwei', 'li.na@dealer'],
        },
      },
      actions: [{ type: 'follow_up', title: '请加车主企微', dueIn: '1d', at: '10:00', sla: '72h' }],
      guards: { monthlyCap: 4 },
    };
    expect(toDraft(fromDraft(owner))).toEqual(owner);
    const bare: RuleDraft = { ...owner, trigger: { type: 'owner.unreachable' }, conditions: {} };
    expect(toDraft(fromDraft(bare))).toEqual(bare);
    const maxOnly: RuleDraft = { ...owner, conditions: { vehicle: { daysSinceService: { max: 30 } } } };
    expect(toDraft(fromDraft(maxOnly))).toEqual(maxOnly);
  });

  it('sends only the conditions of the chosen subject: the vehicle for owner.unreachable, the customer otherwise', () => {
    const r = fromDraft(full);
    Object.assign(r.vehicle, { models: ['星途 L'], deliveryMin: 30, salesAdvisors: ['zhangwei'] });
    r.trigger.fallbackAdvisor = 'lisi';
    // Other triggers: the customer conditions exactly as before, no vehicle conditions, no fallbackAdvisor.
    expect(toDraft(r)).toEqual(full);
    r.trigger.type = 'owner.unreachable';
    expect(toDraft(r)).toMatchObject({
      trigger: { type: 'owner.unreachable', fallbackAdvisor: 'lisi' },
      conditions: { vehicle: { models: ['星途 L'], daysSinceDelivery: { min: 30 }, salesAdvisors: ['zhangwei'] } },
    });
    expect(Object.keys(toDraft(r).conditions ?? {})).toEqual(['vehicle']);
    // Back to a customer trigger: what was typed in the customer conditions is still there.
    r.trigger.type = 'customer.added';
    expect(toDraft(r).conditions).toEqual(full.conditions);
  });

  it('keeps what the form has no fields for (lead conditions, holdout share) when a rule is edited', () => {
    const lead: RuleDraft = {
      ...full,
      trigger: { type: 'lead.stage_changed' },
      conditions: { lead: { sources: ['autohome'], toStages: ['lost'], ageHours: { min: 1 } } },
      holdoutShare: 0.1,
    };
    expect(toDraft(fromDraft(lead))).toEqual(lead);
    const withHoldout: RuleDraft = { ...full, holdoutShare: 0.2 };
    expect(toDraft(fromDraft(withHoldout))).toEqual(withHoldout);
    // Switched to a trigger they are not valid for, they are not sent (the API would refuse them).
    const r = fromDraft(lead);
    r.trigger.type = 'owner.unreachable';
    expect(toDraft(r)).not.toHaveProperty('holdoutShare');
    expect(toDraft(r).conditions).toEqual({});
    r.trigger.type = 'customer.added';
    expect(toDraft(r).conditions).not.toHaveProperty('lead');
    expect(toDraft(r).holdoutShare).toBe(0.1);
  });

  it('treats a cleared day range input (null at run time) as not set', () => {
    const r = newRule('ww1');
    r.trigger.type = 'owner.unreachable';
    Object.assign(r.vehicle, { deliveryMin: null, deliveryMax: 90, serviceMin: null, serviceMax: null });
    expect(toDraft(r).conditions).toEqual({ vehicle: { daysSinceDelivery: { max: 90 } } });
  });

  it("sends only the chosen type's fields and empty conditions as {}", () => {
    const r = newRule('ww1');
    const a = newAction('welcome');
    a.title = 'left over from another type';
    a.text = '欢迎';
    r.actions.push(a);
    expect(toDraft(r)).toMatchObject({
      conditions: {},
      actions: [{ type: 'welcome', text: '欢迎', attachments: [] }],
      guards: { monthlyCap: 4 },
    });
    expect(toDraft(r).actions[0]).not.toHaveProperty('title');
  });

  it("leaves quiet hours out to follow the corp, sends null for none and the window for the rule's own", () => {
    const r = newRule('ww1');
    expect(r.guards.quiet).toBe('corp');
    expect(toDraft(r).guards).not.toHaveProperty('quietHours');
    r.guards.quiet = 'off';
    expect(toDraft(r).guards).toEqual({ quietHours: null, monthlyCap: 4 });
    Object.assign(r.guards, { quiet: 'own', quietStart: '20:00', quietEnd: '08:30' });
    expect(toDraft(r).guards).toEqual({ quietHours: { start: '20:00', end: '08:30' }, monthlyCap: 4 });
    for (const guards of [
      { monthlyCap: 4 },
      { quietHours: null, monthlyCap: 4 },
      { quietHours: { start: '20:00', end: '08:30' }, monthlyCap: 4 },
    ]) {
      expect(toDraft(fromDraft({ ...full, guards })).guards).toEqual(guards);
    }
  });

  it('reads typed tags as group/name', () => {
    expect(tagRef('客户阶段/保客')).toEqual({ group: '客户阶段', name: '保客' });
    expect(tagRef('保客')).toEqual({ group: '标签', name: '保客' });
  });
});
