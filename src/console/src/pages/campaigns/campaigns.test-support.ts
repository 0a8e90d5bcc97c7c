import type { Me, Rule, RuleOptions, RuleRow } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';

/** Made-up campaign data for the page tests. */
export const CORP = 'wwdemo0001';

export const marketing: Me = {
  role: 'marketing',
  corps: [CORP],
  userid: 'lina',
  departments: undefined,
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf1',
} as Me;

/** A Pinia plugin-like installer: signs the test in before the page mounts. */
export const signedInAs = (me: Me) => ({ install: () => useSession().set(me) });

export const options: RuleOptions = {
  corpId: CORP,
  corps: [
    { corpId: CORP, displayName: '星途城南店', writable: true },
    { corpId: 'wwdemo0002', displayName: '星途城北店', writable: true },
  ],
  dateFields: ['deliveryDate', 'insuranceExpiry', 'lastServiceDate', 'birthday'],
  tags: [{ group: '客户阶段', name: '保客' }],
  channelStates: ['delivery_0501'],
  deliveryStatePrefixes: ['delivery'],
  vehicleModels: ['星途 L'],
};

export function rule(over: Partial<RuleRow> = {}): RuleRow {
  const body = {
    name: '交车欢迎',
    scope: CORP,
    priority: 100,
    trigger: { type: 'customer.added' as const, state: { prefix: 'delivery' } },
    conditions: {},
    actions: [{ type: 'welcome' as const, text: '欢迎', attachments: [] }],
    guards: { quietHours: { start: '21:00', end: '09:00' }, monthlyCap: 4 },
  };
  return {
    id: 'r1',
    name: body.name,
    scope: CORP,
    enabled: false,
    disabledCorps: [],
    version: 1,
    body,
    createdAt: '2026-05-01T02:00:00Z',
    updatedAt: '2026-05-02T02:00:00Z',
    deleted: false,
    hitsThisMonth: 0,
    ...over,
  } as RuleRow;
}

export const asRule = (row: RuleRow): Rule => {
  const { hitsThisMonth: _hits, ...rest } = row;
  return rest;
};
