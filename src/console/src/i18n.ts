import { createI18n } from 'vue-i18n';
import { acquisition } from './locales/acquisition.js';
import { cockpit } from './locales/cockpit.js';
import { campaigns } from './locales/campaigns.js';
import { advisorNote } from './locales/advisor-note.js';
import { content } from './locales/content.js';
import { core } from './locales/core.js';
import { customers } from './locales/customers.js';
import { engagement } from './locales/engagement.js';
import { tasksDesk } from './locales/tasks-desk.js';
import { transfers } from './locales/transfers.js';
import { settings } from './locales/settings.js';
import { outcomes } from './locales/outcomes.js';

/**
 * Each area of the console keeps its strings in `locales/<area>.ts` as `{ 'zh-CN': {...}, en: {...} }`
 * (one file per area so pages can grow independently); they are merged here. A test checks
 * that both languages have the same keys.
 */
const areas = [
  core,
  campaigns,
  settings,
  cockpit,
  tasksDesk,
  customers,
  transfers,
  acquisition,
  outcomes,
  engagement,
  content,
  advisorNote,
] as const;

type Dict = { [key: string]: string | Dict };
function merge(into: Dict, from: Dict): Dict {
  for (const [k, v] of Object.entries(from))
    into[k] = typeof v === 'string' ? v : merge((into[k] as Dict | undefined) ?? {}, v);
  return into;
}
export const messages = {
  'zh-CN': areas.reduce<Dict>((all, a) => merge(all, a['zh-CN'] as Dict), {}),
  en: areas.reduce<Dict>((all, a) => merge(all, a.en as Dict), {}),
};

export type Locale = keyof typeof messages;
/** zh-CN first (dealer staff), English for operators; the choice is remembered per browser. */
const stored = typeof localStorage === 'undefined' ? null : localStorage.getItem('console.locale');
export const i18n = createI18n({
  legacy: false,
  locale: stored === 'en' ? 'en' : 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages,
});

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale;
  localStorage.setItem('console.locale', locale);
  document.documentElement.lang = locale;
}
