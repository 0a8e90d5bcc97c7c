import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountWithConsole, stubApi } from '../../testing/mount.js';
import { CORP, advisors, channel, meAs, pick, signedIn } from './acquisition.test-support.js';
import ChannelsPage from './ChannelsPage.vue';

const kpis = {
  channels: [
    {
      channelId: 'c0000000000000000000000a',
      name: '车展团队码',
      kind: 'team',
      campaign: '六月车展',
      adds: 12,
      welcomes: 11,
      owners: 3,
      leadsConverted: 2,
      cost: 600,
      costPerAdd: 50,
    },
  ],
  unknown: { adds: 4, states: [{ state: 'old_tool_code', adds: 4 }] },
};

describe('ChannelsPage', () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.body.innerHTML = '';
  });

  it('lists codes with their QR through the bot, KPIs and the unknown-channel adds', async () => {
    stubApi({
      'GET /api/v1/channels': () =>
        json(200, {
          channels: [
            channel(),
            channel({ id: 'c0000000000000000000000b', name: '新码', qrCode: null, syncState: 'pending' }),
          ],
        }),
      'GET /api/v1/channels/kpis': () => json(200, kpis),
      'GET /api/v1/advisors': () => json(200, advisors),
    });
    const page = await mountWithConsole(ChannelsPage, { global: { plugins: [signedIn(meAs('marketing', 'lina'))] } });
    await flushPromises();
    const table = page.find('[data-test="channels-table"]').text();
    expect(table).toContain('车展团队码');
    expect(table).toContain('团队码');
    expect(table).toContain('张伟、刘洋');
    expect(page.find('[data-test="channel-adds"]').text()).toBe('12');
    expect(table).toMatch(/¥50\.00|CN¥50\.00/);
    expect(page.find('[data-test="qr-preview"]').attributes('src')).toBe(
      `/api/v1/channels/c0000000000000000000000a/qr.png?corpId=${CORP}`,
    );
    expect(page.find('[data-test="qr-pending"]').text()).toBe('生成中');
    expect(page.find('[data-test="unknown-channel"]').text()).toContain('old_tool_code');
    expect(page.find('[data-test="channel-new"]').exists()).toBe(true);
    page.unmount(); // stops the refresh of the pending code
  });

  it('creates a lead code from the form and shows the API’s field problem at the field', async () => {
    let attempts = 0;
    const api = stubApi({
      'GET /api/v1/channels': () => json(200, { channels: [] }),
      'GET /api/v1/channels/kpis': () => json(200, { channels: [], unknown: { adds: 0, states: [] } }),
      'GET /api/v1/advisors': () => json(200, advisors),
      'POST /api/v1/channels': () =>
        ++attempts === 1
          ? json(422, {
              error: {
                code: 'validation_failed',
                message: 'some fields are invalid',
                details: [{ path: '/name', message: 'at most 60 characters' }],
              },
            })
          : json(201, channel({ kind: 'lead', advisors: ['zhangwei'] })),
    });
    const page = await mountWithConsole(ChannelsPage, {
      attachTo: document.body,
      global: { plugins: [signedIn(meAs('marketing', 'lina'))] },
    });
    await flushPromises();
    await page.find('[data-test="channel-new"]').trigger('click');
    await flushPromises();
    // Nothing filled in: the form says what is missing and sends nothing.
    await page.find('[data-test="channel-save"]').trigger('click');
    await flushPromises();
    // Element Plus shows a form item's error after a short debounce: poll for it.
    await vi.waitFor(() => expect(document.body.textContent).toContain('请填写名称'), { timeout: 2000 });
    expect(api.calls.filter((c) => c.method === 'POST')).toHaveLength(0);

    await page.find('input[data-test="channel-name"]').setValue('张伟线索码');
    pick(page, 'channel-kind', 'lead');
    pick(page, 'channel-advisors', ['zhangwei']);
    await flushPromises();
    await page.find('[data-test="channel-save"]').trigger('click');
    await flushPromises();
    await vi.waitFor(() => expect(document.body.textContent).toContain('at most 60 characters'), { timeout: 2000 });
    await page.find('[data-test="channel-save"]').trigger('click');
    await flushPromises();
    const posts = api.calls.filter((c) => c.method === 'POST');
    expect(posts[1]?.body).toEqual({
      corpId: CORP,
      name: '张伟线索码',
      kind: 'lead',
      advisors: ['zhangwei'],
      skipVerify: true,
    });
    page.unmount();
  });

  it('edits a code with its current values (kind fixed) and sends the whole editable set', async () => {
    const api = stubApi({
      'GET /api/v1/channels': () => json(200, { channels: [channel()] }),
      'GET /api/v1/channels/kpis': () => json(200, kpis),
      'GET /api/v1/advisors': () => json(200, advisors),
      'PATCH /api/v1/channels/': () => json(200, channel({ name: '车展团队码（二期）' })),
    });
    const page = await mountWithConsole(ChannelsPage, {
      attachTo: document.body,
      global: { plugins: [signedIn(meAs('dealer_admin', 'chenjing'))] },
    });
    await flushPromises();
    await page.find('[data-test="channel-edit-c0000000000000000000000a"]').trigger('click');
    await flushPromises();
    const name = page.find('input[data-test="channel-name"]');
    expect((name.element as HTMLInputElement).value).toBe('车展团队码');
    const kind = page.findAllComponents({ name: 'ElSelect' }).find((c) => c.attributes('data-test') === 'channel-kind');
    expect(kind?.props('disabled')).toBe(true);
    await name.setValue('车展团队码（二期）');
    await page.find('input[data-test="channel-campaign"]').setValue('');
    await page.find('[data-test="channel-save"]').trigger('click');
    await flushPromises();
    const patch = api.calls.find((c) => c.method === 'PATCH')!;
    expect(patch.url.pathname).toBe('/api/v1/channels/c0000000000000000000000a');
    expect(patch.url.searchParams.get('corpId')).toBe(CORP);
    expect(patch.body).toEqual({
      name: '车展团队码（二期）',
      campaign: null,
      advisors: ['zhangwei', 'liuyang'],
      skipVerify: true,
      cost: 600,
    });
    page.unmount();
  });

  it('shows a manager the codes without the write actions', async () => {
    stubApi({
      'GET /api/v1/channels': () => json(200, { channels: [channel()] }),
      'GET /api/v1/channels/kpis': () => json(200, kpis),
      'GET /api/v1/advisors': () => json(200, advisors),
    });
    const page = await mountWithConsole(ChannelsPage, {
      global: { plugins: [signedIn(meAs('manager', 'wangqiang'))] },
    });
    await flushPromises();
    expect(page.find('[data-test="channels-table"]').text()).toContain('车展团队码');
    expect(page.find('[data-test="channel-new"]').exists()).toBe(false);
    expect(page.find('[data-test^="channel-edit-"]').exists()).toBe(false);
  });
});
