import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChangeNotices, changeNotices } from '../../infra/change-notices.js';
import { uniqueName } from '../../testing/env.js';
import { useProcessConnections } from '../../testing/process-connections.js';
import { useTestDatabase } from '../../testing/mongo.js';
import { waitFor } from '../../testing/wait.js';
import { AcquisitionSettingsModel } from './acquisition-settings.model.js';
import {
  AcquisitionSettingsCache,
  acquisitionSettingsSchema,
  cachedAcquisitionSettings,
  saveAcquisitionSettings,
} from './acquisition-settings.js';

const corpId = 'wwleadsettingscache01';
const settings = (slaMinutes: number) =>
  acquisitionSettingsSchema.parse({ slaMinutes, rules: [{ name: '销售部', departments: [2] }] });

let db: Awaited<ReturnType<typeof useTestDatabase>>;
const processes = useProcessConnections();
const redisPair = () => processes.redisPair();
const prefix = uniqueName('leadsettings');
beforeAll(async () => {
  db = await useTestDatabase('lead-settings-cache');
});
afterAll(async () => {
  await db?.drop();
});

describe('lead settings held in memory', () => {
  it('a save in one process is read anew by another process through the change notices, long before the time limit; without a save the copy is served from memory', async () => {
    // "Process A" saves through mongoose (the model's hooks announce on the process's notices);
    // "process B" has notices of its own, on connections of its own, and an intake's cache whose
    // time limit is far beyond this test.
    processes.onClose(await changeNotices.attach({ ...redisPair(), prefix }));
    const notices = new ChangeNotices();
    processes.onClose(await notices.attach({ ...redisPair(), prefix }));
    const cache = new AcquisitionSettingsCache({ notices, ttlMs: 3_600_000 });
    let heard = 0;
    processes.onClose(notices.on('lead-settings', () => heard++));

    await saveAcquisitionSettings(corpId, settings(15));
    await waitFor(() => heard === 1, 'process B hears of the first save', { timeoutMs: 5000, intervalMs: 10 });
    expect((await cache.get(corpId)).slaMinutes).toBe(15);
    // This process's own copy follows its own save at once (no waiting for Redis).
    expect((await cachedAcquisitionSettings(corpId)).slaMinutes).toBe(15);

    // Written behind mongoose's back: no notice, so B keeps its copy (it is not re-reading MongoDB).
    await AcquisitionSettingsModel.collection.updateOne({ corpId }, { $set: { 'settings.slaMinutes': 20 } });
    expect((await cache.get(corpId)).slaMinutes).toBe(15);
    expect((await cachedAcquisitionSettings(corpId)).slaMinutes).toBe(15);

    // Saved in A: A's copy is dropped at once, B's when the notice arrives.
    await saveAcquisitionSettings(corpId, settings(45));
    expect((await cachedAcquisitionSettings(corpId)).slaMinutes).toBe(45);
    await waitFor(async () => (await cache.get(corpId)).slaMinutes === 45, 'process B reads the settings saved in A', {
      timeoutMs: 5000,
      intervalMs: 20,
    });
    expect((await cache.get(corpId)).rules.map((r) => r.name)).toEqual(['销售部']);

    // A closed cache no longer listens, and forgets what it held.
    cache.close();
    await saveAcquisitionSettings(corpId, settings(60));
    expect((await cache.get(corpId)).slaMinutes).toBe(60);
  });

  it('the time limit still bounds a copy when no notice comes', async () => {
    let now = 0;
    const cache = new AcquisitionSettingsCache({ notices: new ChangeNotices(), ttlMs: 1000, monotonicMs: () => now });
    await saveAcquisitionSettings(corpId, settings(30));
    expect((await cache.get(corpId)).slaMinutes).toBe(30);
    await AcquisitionSettingsModel.collection.updateOne({ corpId }, { $set: { 'settings.slaMinutes': 31 } });
    now = 999;
    expect((await cache.get(corpId)).slaMinutes).toBe(30);
    now = 1000;
    expect((await cache.get(corpId)).slaMinutes).toBe(31);
    cache.close();
  });
});
