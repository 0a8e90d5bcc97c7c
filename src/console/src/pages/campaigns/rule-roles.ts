import type { Me, Role } from '../../lib/api-types.js';

/** Mirrors RULE_AUTHORS in src/routes/api/rules.routes.ts (the API refuses others anyway). */
const AUTHORS: readonly Role[] = ['admin', 'oem', 'marketing'];
/** Who may switch rules on and off (authors, and dealer admins for their corp). */
const SWITCHERS: readonly Role[] = [...AUTHORS, 'dealer_admin'];

export const canAuthor = (me: Me | undefined): boolean => Boolean(me && AUTHORS.includes(me.role));
export const canSwitch = (me: Me | undefined): boolean => Boolean(me && SWITCHERS.includes(me.role));
/** All-corps rules are authored by admin and car-maker users (every corp). */
export const canAuthorAllCorps = (me: Me | undefined): boolean => canAuthor(me) && me?.corps === '*';
/** Whether an all-corps rule is switched off for every corp of this (one-corp) user. */
export function offForMe(me: Me | undefined, rule: { scope: string; disabledCorps: string[] }): boolean {
  if (!me || me.corps === '*' || rule.scope !== 'all') return false;
  return me.corps.length > 0 && me.corps.every((c) => rule.disabledCorps.includes(c));
}
