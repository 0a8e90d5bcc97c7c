import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadEnvFiles } from './env-files.js';

const dir = mkdtempSync(join(tmpdir(), 'scrm-env-files-'));
mkdirSync(join(dir, '.data'));
writeFileSync(join(dir, '.env'), 'PORT=4000\nLOG_LEVEL=debug\n');
writeFileSync(join(dir, '.data/dev.env'), 'PORT=3999\nREDIS_URL=redis://127.0.0.1:6399\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('loadEnvFiles (CLIs and npm start reach the running dev stack)', () => {
  it('in development fills unset variables from .env, then .data/dev.env, never overriding what is set', () => {
    const env: Record<string, string | undefined> = { LOG_LEVEL: 'warn' };
    const loaded = loadEnvFiles(env, dir);
    expect(loaded).toEqual({ files: ['.env', join('.data', 'dev.env')], devStack: true });
    expect(env).toMatchObject({ LOG_LEVEL: 'warn', PORT: '4000', REDIS_URL: 'redis://127.0.0.1:6399' });
  });

  it("never reads the dev stack's settings in production or tests", () => {
    for (const NODE_ENV of ['production', 'test']) {
      const env: Record<string, string | undefined> = { NODE_ENV };
      expect(loadEnvFiles(env, dir)).toEqual({ files: ['.env'], devStack: false });
      expect(env.REDIS_URL).toBeUndefined();
    }
  });
});
