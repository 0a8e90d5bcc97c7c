import type { VueWrapper } from '@vue/test-utils';
import type { Plugin } from 'vue';
import type { Me, Role } from '../../lib/api-types.js';
import { useSession } from '../../lib/session.js';
import type { Channel, Lead } from './acquisition-api.js';

/** Fixtures of the acquisition pages' tests (invented people and codes). */
export const CORP = 'wwacquisitionpage';
export const meAs = (role: Role, userid: string): Me => ({
  role,
  corps: [CORP],
  userid,
  departments: [2],
  via: 'wecom',
  corpId: CORP,
  csrfToken: 'csrf-acq',
});
export const signedIn = (me: Me): Plugin => ({ install: () => useSession().set(me) });
export const advisors = {
  advisors: [
    { corpId: CORP, userid: 'zhangwei', name: '张伟', departments: [2], status: 'active' },
    { corpId: CORP, userid: 'liuyang', name: '刘洋', departments: [2], status: 'active' },
  ],
};

export function channel(fields: Partial<Channel> = {}): Channel {
  return {
    id: 'c0000000000000000000000a',
    corpId: CORP,
    name: '车展团队码',
    kind: 'team',
    campaign: '六月车展',
    advisors: ['zhangwei', 'liuyang'],
    skipVerify: true,
    cost: 600,
    vehicleVin: null,
    state: 'cht-abc',
    qrCode: 'https://wework.example/qr/a.png',
    wecomUsers: ['zhangwei'],
    syncState: 'synced',
    syncError: null,
    deletedAt: null,
    createdAt: '2026-06-01T02:00:00.000Z',
    ...fields,
  };
}

export function lead(fields: Partial<Lead> = {}): Lead {
  return {
    id: 'l0000000000000000000000a',
    corpId: CORP,
    source: 'autohome',
    sourceId: null,
    model: '新能源 SUV',
    budget: null,
    preferredTime: null,
    name: '测试线索甲',
    mobile: '13900000001',
    stage: 'new',
    outcome: null,
    lostReason: null,
    advisorUserid: 'zhangwei',
    assignedAt: null,
    firstContactAt: null,
    addedAt: null,
    customerId: null,
    repeatCount: 0,
    slaDueAt: null,
    slaLevel: 0,
    createdAt: '2026-06-01T02:00:00.000Z',
    ...fields,
  };
}

/** Sets an Element Plus select (found by its data-test) as a person picking an option would. */
export function pick(page: VueWrapper, dataTest: string, value: unknown): void {
  const select = page.findAllComponents({ name: 'ElSelect' }).find((s) => s.attributes('data-test') === dataTest);
  if (!select) throw new Error(`no select ${dataTest}`);
  select.vm.$emit('update:modelValue', value);
}
