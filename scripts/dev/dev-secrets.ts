import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

export interface DevSecrets {
  DATA_KEYS: string;
  LOOKUP_HMAC_KEY: string;
  BOOTSTRAP_API_TOKEN: string;
}

/**
 * Development secrets, generated on the first `npm run dev` and kept in `.data/dev-secrets.json`
 * (git-ignored) so the demo's encrypted data stays readable across restarts. Never used in
 * production: production configuration has no default secrets.
 */
export function loadOrCreateDevSecrets(path: string): DevSecrets {
  if (existsSync(path)) return JSON.parse(readFileSync(path, 'utf8')) as DevSecrets;
  const secrets: DevSecrets = {
    DATA_KEYS: `dev1:${randomBytes(32).toString('base64')}`,
    LOOKUP_HMAC_KEY: randomBytes(32).toString('base64'),
    BOOTSTRAP_API_TOKEN: randomBytes(24).toString('hex'),
  };
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(secrets, null, 2), { mode: 0o600 });
  return secrets;
}
