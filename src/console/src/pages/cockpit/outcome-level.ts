/**
 * The levels the cockpit's results can be read at (docs/outcomes.md, "KPIs by level"): advisor →
 * department → dealer → car maker, as far up as the role may see. The server narrows every answer
 * to the caller's scope (`resolveScope`); these choices only offer what it would answer.
 */
export const OUTCOME_LEVELS = ['advisor', 'department', 'dealer', 'carMaker'] as const;
export type OutcomeLevel = (typeof OUTCOME_LEVELS)[number];

/**
 * Levels per role. Analysts cannot list members (`GET /api/v1/advisors`), so they read dealers
 * and the car maker only; an unknown role gets the dealer, as before levels existed.
 */
export function levelsFor(role: string | undefined): OutcomeLevel[] {
  switch (role) {
    case 'admin':
    case 'oem':
      return [...OUTCOME_LEVELS];
    case 'analyst':
      return ['dealer', 'carMaker'];
    case 'dealer_admin':
      return ['advisor', 'department', 'dealer'];
    case 'manager':
      return ['advisor', 'department'];
    case 'advisor':
      return ['advisor'];
    default:
      return ['dealer'];
  }
}

/** Where the results open: the cockpit's department when one is picked, else the widest level with a subject. */
export function defaultLevel(levels: readonly OutcomeLevel[], corpId: string, department?: string): OutcomeLevel {
  if (department && levels.includes('department')) return 'department';
  if (!corpId && levels.includes('carMaker')) return 'carMaker';
  return levels.includes('dealer') ? 'dealer' : (levels.at(-1) ?? 'dealer');
}

/** The query of one level: `pick_corp` when the level needs a dealer and none is picked. */
export function levelQuery(
  level: OutcomeLevel,
  pick: { corpId: string; department?: string; advisor?: string },
): { corpId?: string; department?: string; advisor?: string } | 'pick_corp' {
  if (level === 'carMaker') return {};
  if (!pick.corpId) return 'pick_corp';
  if (level === 'dealer') return { corpId: pick.corpId };
  if (level === 'department')
    return { corpId: pick.corpId, ...(pick.department ? { department: pick.department } : {}) };
  return { corpId: pick.corpId, ...(pick.advisor ? { advisor: pick.advisor } : {}) };
}
