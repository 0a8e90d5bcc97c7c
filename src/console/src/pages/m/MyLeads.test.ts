import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import { CORP, channel, lead, meAs, signedIn } from '../acquisition/acquisition.test-support.js';
import MyLeads from './MyLeads.vue';

const ID = 'l0000000000000000000000a';
const advisor = meAs('advisor', 'zhangwei');
const myCode = channel({ id: 'c0000000000000000000000c', kind: 'lead', name: '张伟线索码', advisors: ['zhangwei'] });

describe('MyLeads', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('gives each open lead a call link, contacted and a forward move, and shows the lead code to send', async () => {
    const api = stubApi({
      'GET /api/v1/leads': () =>
        json(200, { leads: [lead({ id: ID }), lead({ id: 'l0000000000000000000000b', outcome: 'won' })] }),
      'GET /api/v1/channels': () => json(200, { channels: [myCode, channel()] }),
      [`POST /api/v1/leads/${ID}/contacted`]: () =>
        json(200, lead({ id: ID, stage: 'contacted', firstContactAt: '2026-06-01T03:00:00.000Z' })),
      [`POST /api/v1/leads/${ID}/stage`]: () =>
        json(200, lead({ id: ID, stage: 'test_drive', firstContactAt: '2026-06-01T03:00:00.000Z' })),
    });
    const page = await mountWithConsole(MyLeads, { global: { plugins: [signedIn(advisor)] } });
    await flushPromises();
    const cards = page.findAll('[data-test="my-lead"]');
    expect(cards).toHaveLength(1); // the closed one is not on the phone
    expect(page.find('[data-test="my-lead-call"]').attributes('href')).toBe('tel:13900000001');
    expect(page.find('[data-test="my-lead-code"] [data-test="qr-preview"]').attributes('src')).toBe(
      `/api/v1/channels/${myCode.id}/qr.png?corpId=${CORP}`,
    );
    expect(page.findAll('[data-test="my-lead-code"] [data-test="channel-qr"]')).toHaveLength(1);

    await page.find('[data-test="my-lead-contacted"]').trigger('click');
    await flushPromises();
    expect(page.find('[data-test="my-lead-stage"]').text()).toBe('已联系');
    expect(page.find('[data-test="my-lead-contacted"]').exists()).toBe(false);

    page.findComponent({ name: 'ElDropdown' }).vm.$emit('command', 'test_drive');
    await flushPromises();
    expect(api.calls.find((c) => c.url.pathname.endsWith('/stage'))?.body).toEqual({ stage: 'test_drive' });
    expect(page.find('[data-test="my-lead-stage"]').text()).toBe('试驾');
  });

  it('asks why a lead was lost before sending it, then takes the lead off the list', async () => {
    const api = stubApi({
      'GET /api/v1/leads': () => json(200, { leads: [lead({ id: ID })] }),
      'GET /api/v1/channels': () => json(200, { channels: [] }),
      [`POST /api/v1/leads/${ID}/stage`]: () =>
        json(200, lead({ id: ID, stage: 'lost', outcome: 'lost', lostReason: '已在别家购买' })),
    });
    const page = await mountWithConsole(MyLeads, { attachTo: document.body, global: { plugins: [signedIn(advisor)] } });
    await flushPromises();
    expect(page.find('[data-test="my-lead-code"]').text()).toContain('还没有您的线索码');
    await page.find('[data-test="my-lead-lost"]').trigger('click');
    await flushPromises();
    const confirm = () => document.querySelector('[data-test="lost-confirm"]') as HTMLButtonElement;
    expect(confirm().disabled).toBe(true);
    const input = document.querySelector('input[data-test="lost-reason"]') as HTMLInputElement;
    input.value = '已在别家购买';
    input.dispatchEvent(new Event('input'));
    await flushPromises();
    confirm().click();
    await flushPromises();
    expect(api.calls.find((c) => c.method === 'POST')?.body).toEqual({ stage: 'lost', lostReason: '已在别家购买' });
    expect(page.findAll('[data-test="my-lead"]')).toHaveLength(0);
    page.unmount();
  });
});
