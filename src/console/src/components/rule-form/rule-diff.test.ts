import { describe, expect, it } from 'vitest';
import { diffRules, pathInWords } from './rule-diff.js';

const v1 = {
  name: '交车欢迎',
  scope: 'ww1',
  priority: 100,
  trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
  conditions: { hasTags: [{ group: '客户阶段', name: '意向' }] },
  actions: [
    { type: 'welcome', text: '欢迎', attachments: [] },
    { type: 'follow_up', title: '回访', dueIn: '0d', sla: '24h' },
  ],
  guards: { quietHours: { start: '21:00', end: '09:00' }, monthlyCap: 4 },
};

describe('rule diff', () => {
  it('lists changed, added and removed fields; tag lists compare as one value', () => {
    const v2 = {
      ...v1,
      name: '交车欢迎 v2',
      conditions: {
        hasTags: [
          { group: '客户阶段', name: '意向' },
          { group: '客户阶段', name: '保客' },
        ],
      },
      actions: [v1.actions[0], { type: 'follow_up', title: '回访', dueIn: '3d', at: '10:00', sla: '24h' }],
      guards: { quietHours: null, monthlyCap: 4 },
    };
    expect(diffRules(v1, v2)).toEqual([
      { path: 'name', kind: 'changed', before: '交车欢迎', after: '交车欢迎 v2' },
      { path: 'conditions.hasTags', kind: 'changed', before: '客户阶段/意向', after: '客户阶段/意向, 客户阶段/保客' },
      { path: 'actions[1].dueIn', kind: 'changed', before: '0d', after: '3d' },
      { path: 'actions[1].at', kind: 'added', after: '10:00' },
      { path: 'guards.quietHours', kind: 'added', after: '—' },
      { path: 'guards.quietHours.start', kind: 'removed', before: '21:00' },
      { path: 'guards.quietHours.end', kind: 'removed', before: '09:00' },
    ]);
  });

  it('finds nothing between equal bodies, and sees a removed action', () => {
    expect(diffRules(v1, structuredClone(v1))).toEqual([]);
    const fewer = { ...v1, actions: [v1.actions[0]] };
    expect(diffRules(v1, fewer).map((c) => `${c.kind} ${c.path}`)).toEqual([
      'removed actions[1].type',
      'removed actions[1].title',
      'removed actions[1].dueIn',
      'removed actions[1].sla',
    ]);
  });

  it("words a path with the form's labels and 1-based numbers", () => {
    const labels: Record<string, string> = { actions: '动作', escalation: '升级', after: '逾期后升级' };
    expect(pathInWords('actions[1].escalation.after', (k) => labels[k] ?? k)).toBe('动作 2 · 升级 · 逾期后升级');
  });
});
