import type { CorpInput } from '../../src/domain/corps/corp.types.js';
import { defaultRetentionSettings, type RetentionSettings } from '../../src/domain/customers/retention-settings.js';
import { DEMO_CALLBACK, DEMO_CONTACT_SYNC, DEMO_CORP_ID, DEMO_SECRET } from '../wecom-sandbox/world/demo-seed.js';

/**
 * The demo dealer's retained-customer settings: the defaults, so its owner tag is 客户分层/保客 as
 * for any dealer that copies the README's examples (one 保客 tag, never two in two groups).
 */
export const DEMO_RETENTION: RetentionSettings = { ...defaultRetentionSettings };

/** The sandbox's demo dealer as the bot registers it (fake credentials, made-up data). */
export function demoCorpInput(): CorpInput {
  return {
    corpId: DEMO_CORP_ID,
    kind: 'dealer',
    displayName: '星途汽车城南4S店（演示）',
    agentId: 1000002,
    secret: DEMO_SECRET,
    callbackToken: DEMO_CALLBACK.token,
    callbackAesKey: DEMO_CALLBACK.encodingAesKey,
    contactSyncToken: DEMO_CONTACT_SYNC.token,
    contactSyncAesKey: DEMO_CONTACT_SYNC.encodingAesKey,
    timezone: 'Asia/Shanghai',
    retention: DEMO_RETENTION,
  };
}
