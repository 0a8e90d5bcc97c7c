import { flushPromises } from '@vue/test-utils';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountWithConsole, stubApi } from '../testing/mount.js';
import CampaignsPage from './CampaignsPage.vue';

describe('CampaignsPage', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('lists the rules the API returns', async () => {
    stubApi({ 'GET /api/v1/rules': () => json(200, { rules: [{ id: 'r1', name: '交车关怀', scope: 'all', enabled: true, version: 3, updatedAt: '2026-06-01T02:00:00Z' }] }) });
    const page = await mountWithConsole(CampaignsPage);
    await flushPromises();
    expect(page.find('[data-test="campaigns"]').text()).toContain('交车关怀');
  });

  it('shows the empty state when there are no rules', async () => {
    stubApi({ 'GET /api/v1/rules': () => json(200, { rules: [] }) });
    const page = await mountWithConsole(CampaignsPage);
    await flushPromises();
    expect(page.text()).toContain('暂无活动');
  });
});
