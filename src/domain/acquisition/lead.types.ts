/** Lead sources and stages, importable without the lead model (docs/architecture.md §10). */
export const LEAD_SOURCES = [
  'dcc',
  'autohome',
  'dongchedi',
  'yiche',
  'short_video',
  'walk_in',
  'owner_referral',
  'trade_in',
] as const;
export type LeadSource = (typeof LEAD_SOURCES)[number];
/** Stages in order; `lost` ends a lead anywhere (docs/acquisition.md "Stages"). */
export const LEAD_STAGES = ['new', 'contacted', 'added', 'test_drive', 'order', 'delivered', 'lost'] as const;
export type LeadStage = (typeof LEAD_STAGES)[number];
export const OPEN_LEAD_STAGES: readonly LeadStage[] = ['new', 'contacted', 'added', 'test_drive', 'order'];
