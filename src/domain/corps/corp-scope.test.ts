import { describe, expect, it } from 'vitest';
import { createLogger } from '../../infra/logger.js';
import type { CorpApi } from '../../wecom/corp-api.js';
import { defaultRetentionSettings } from '../customers/retention-settings.js';
import { corpScope, refusalOf, type ScopeParts } from './corp-scope.js';
import type { Corp } from './corp.types.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const corp = (over: Partial<Corp> = {}): Corp => ({
  corpId: 'wwscope',
  kind: 'dealer',
  enabled: true,
  displayName: 'x',
  agentId: 7,
  secret: 's',
  callback: { token: 't', encodingAesKey: 'k' },
  contactSync: undefined,
  timezone: '',
  retention: defaultRetentionSettings,
  ...over,
});
const bound: Array<{ corpId: string; agentId: number }> = [];
const parts = {
  config: { redis: { queuePrefix: 'p' }, publicBaseUrl: 'https://scrm.example', defaultTimezone: 'Asia/Shanghai' },
  clock: {},
  queues: {},
  redis: {},
  pd: {},
  tuning: { messageBatchWindowMs: 0 },
  wecom: {
    forCorp: (creds: { corpId: string; agentId: number }) => (
      bound.push(creds),
      { corpId: creds.corpId } as unknown as CorpApi
    ),
  },
} as unknown as ScopeParts;

describe('corp scope: one policy', () => {
  it('refuses unknown, car-maker and disabled corps; privacy duties go on for a disabled one', () => {
    expect(refusalOf(undefined)).toBe('unknown_corp');
    expect(refusalOf(corp({ kind: 'oem' }))).toBe('oem_corp');
    expect(refusalOf(corp({ enabled: false }))).toBe('disabled_corp');
    expect(refusalOf(corp({ enabled: false }), { privacyDuty: true })).toBeUndefined();
    expect(refusalOf(corp({ kind: 'oem', enabled: false }), { privacyDuty: true })).toBe('oem_corp');
    expect(refusalOf(corp())).toBeUndefined();
    expect(corpScope(corp({ enabled: false }), parts, logger)).toEqual({ ok: false, refused: 'disabled_corp' });
  });

  it('gives every feature its slice from one binding of the WeCom API', () => {
    bound.length = 0;
    const result = corpScope(corp(), parts, logger);
    if (!result.ok) throw new Error('expected a scope');
    const { scope } = result;
    expect(bound).toEqual([]); // bound on first use only
    const engine = scope.engine();
    const tasks = scope.tasks();
    const customers = scope.customers();
    expect(bound).toHaveLength(1);
    expect(engine).toMatchObject({
      corpId: 'wwscope',
      timeZone: 'Asia/Shanghai',
      batchWindowMs: 0,
      publicBaseUrl: 'https://scrm.example',
    });
    expect(tasks).toMatchObject({ corpId: 'wwscope', timeZone: 'Asia/Shanghai', keyPrefix: 'p' });
    expect(customers.api).toBe(engine.api);
    expect(tasks.api).toBe(engine.api);
  });
});
