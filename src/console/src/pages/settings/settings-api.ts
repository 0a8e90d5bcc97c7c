import { call } from '../../lib/api.js';
import type { ApiToken, ApiTokenCreate, CorpListItem, CorpSettings, CorpSettingsPatch } from '../../lib/api-types.js';

const corpPath = (corpId: string) => `/api/v1/corps/${encodeURIComponent(corpId)}/settings`;

/** The settings page's calls: a corp's settings (admin, dealer_admin) and API tokens (admin). */
export const settingsApi = {
  corps: () => call<{ corps: CorpListItem[] }>('GET', '/api/v1/corps'),
  get: (corpId: string) => call<CorpSettings>('GET', corpPath(corpId)),
  save: (corpId: string, patch: CorpSettingsPatch) => call<CorpSettings>('PATCH', corpPath(corpId), patch),
  tokens: () => call<{ tokens: ApiToken[] }>('GET', '/api/v1/tokens'),
  createToken: (input: ApiTokenCreate) => call<{ tokenId: string; token: string }>('POST', '/api/v1/tokens', input),
  revokeToken: (tokenId: string) => call<void>('DELETE', `/api/v1/tokens/${encodeURIComponent(tokenId)}`),
};

/** 422 problems keyed by JSON pointer (`/tasks/workingHours/start`), for `el-form-item :error`. */
export function problemsByPath(details: ReadonlyArray<{ path: string; message: string }>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of details) out[d.path] = out[d.path] ? `${out[d.path]}; ${d.message}` : d.message;
  return out;
}
