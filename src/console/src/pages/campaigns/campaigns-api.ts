import { call } from '../../lib/api.js';
import type {
  Rule,
  RuleCopyWarning,
  RuleDraft,
  RuleOptions,
  RulePreview,
  RuleRow,
  RuleVersion,
} from '../../lib/api-types.js';

const enc = encodeURIComponent;
const corpQuery = (corpId?: string) => (corpId ? `?corpId=${enc(corpId)}` : '');

/** The campaign pages' calls to `/api/v1/rules` (the rules API, extended for the console). */
export const rulesApi = {
  list: () => call<{ rules: RuleRow[] }>('GET', '/api/v1/rules'),
  get: (id: string) => call<Rule & { versions: RuleVersion[] }>('GET', `/api/v1/rules/${enc(id)}`),
  versions: (id: string) => call<{ versions: RuleVersion[] }>('GET', `/api/v1/rules/${enc(id)}/versions`),
  options: (corpId?: string) => call<RuleOptions>('GET', `/api/v1/rules/options${corpQuery(corpId)}`),
  create: (draft: RuleDraft) => call<Rule>('POST', '/api/v1/rules', draft),
  /** `version` is the one the form was loaded from: the server answers 409 if someone saved meanwhile. */
  update: (id: string, draft: RuleDraft, version?: number) =>
    call<Rule>('PUT', `/api/v1/rules/${enc(id)}`, draft, version === undefined ? {} : { 'If-Match': String(version) }),
  setEnabled: (id: string, enabled: boolean) =>
    call<Rule>('POST', `/api/v1/rules/${enc(id)}/${enabled ? 'enable' : 'disable'}`),
  duplicate: (id: string, corpId: string) =>
    call<{ rule: Rule; warnings: RuleCopyWarning[] }>('POST', `/api/v1/rules/${enc(id)}/duplicate`, { corpId }),
  preview: (draft: RuleDraft, corpId?: string) =>
    call<RulePreview>('POST', `/api/v1/rules/preview${corpQuery(corpId)}`, draft),
  uploadImage: (
    scope: string,
    file: { filename: string; contentType: 'image/png' | 'image/jpeg'; dataBase64: string },
  ) => call<{ id: string; filename: string }>('POST', '/api/v1/media', { scope, ...file }),
};
