import { describe, expect, it } from 'vitest';
import { ruleProblemsOf } from './rule-problems.js';
import { ruleCreateSchema } from './rule.schema.js';

const problems = (input: unknown) => {
  const r = ruleCreateSchema.safeParse(input);
  return r.success ? [] : ruleProblemsOf(r.error);
};

const base = {
  name: '交车欢迎',
  scope: 'wwdealer0001',
  trigger: { type: 'customer.added', state: { prefix: 'delivery' } },
  actions: [{ type: 'welcome', text: '欢迎' }],
};

describe('rule schema', () => {
  it('accepts a delivery welcome and fills defaults (guards, priority, enabled)', () => {
    const r = ruleCreateSchema.parse(base);
    expect(r).toMatchObject({ enabled: false, priority: 100, guards: { monthlyCap: 4 }, conditions: {} });
    // No quiet hours of its own: the rule follows the corp's (settings), which it cannot know here.
    expect(r.guards).not.toHaveProperty('quietHours');
    expect(ruleCreateSchema.parse({ ...base, guards: { quietHours: null } }).guards).toEqual({
      quietHours: null,
      monthlyCap: 4,
    });
  });

  it('reports problems with dotted paths and messages a marketing person can act on', () => {
    const got = problems({
      ...base,
      trigger: { type: 'customer.tag_added', tag: { group: '客户阶段' } },
      actions: [
        { type: 'tag', add: [{ group: '客户阶段', name: '保客' }] },
        { type: 'follow_up', title: '回访', dueIn: '3 days' },
        { type: 'sms' },
      ],
      colour: 'red',
    });
    expect(got).toEqual(
      expect.arrayContaining([
        { path: 'trigger.tag.name', message: 'is required' },
        { path: 'actions[1].dueIn', message: 'use a duration like 3d or 48h (d = days, h = hours, m = minutes)' },
        { path: 'actions[2].type', message: expect.stringContaining('action type must be') },
        { path: 'colour', message: expect.stringContaining('not a field') },
      ]),
    );
  });

  it('checks date offsets, local times and the 9-attachment limit', () => {
    expect(
      problems({
        ...base,
        trigger: { type: 'date', field: 'deliveryDate', offset: '150 days' },
        actions: [{ type: 'follow_up', title: 't', at: '25:00' }],
      }),
    ).toEqual([
      { path: 'trigger.offset', message: 'use an offset like +150d at 10:00 or -60d at 09:30' },
      { path: 'actions[0].at', message: 'use a 24-hour local time like 09:30' },
    ]);
    const link = { type: 'link', title: 't', url: 'https://example.com' };
    expect(problems({ ...base, actions: [{ type: 'welcome', attachments: Array(10).fill(link) }] })).toEqual([
      { path: 'actions[0].attachments', message: 'WeCom allows at most 9 attachments' },
    ]);
  });

  it('limits welcome rules to the add trigger and to channel, advisor and department conditions', () => {
    expect(problems({ ...base, conditions: { lifecycle: ['owner'] } })).toEqual([
      { path: 'conditions.lifecycle', message: expect.stringContaining('use only channel, advisors, departments') },
    ]);
    expect(problems({ ...base, trigger: { type: 'customer.lost' } })).toEqual([
      { path: 'actions[0].type', message: 'a welcome can only run on the customer.added trigger' },
    ]);
  });

  it('refuses an active window that ends before it starts', () => {
    expect(
      problems({ ...base, activeFrom: '2026-06-01T00:00:00+08:00', activeUntil: '2026-05-01T00:00:00+08:00' }),
    ).toEqual([{ path: 'activeUntil', message: 'must be after activeFrom' }]);
  });
});

describe('README examples', () => {
  it('are all valid rules', async () => {
    const { ruleExamples } = await import('./rule-examples.js');
    for (const example of ruleExamples) expect(problems(example.rule), example.title).toEqual([]);
  });
});
