import { call } from '../../lib/api.js';
import type { ChannelKpiRow } from '../../../../domain/acquisition/acquisition-kpis.js';
import type { ChannelKind } from '../../../../domain/acquisition/channel.model.js';
import type { LeadSource, LeadStage } from '../../../../domain/acquisition/lead.types.js';

export type { ChannelKind, ChannelKpiRow, LeadSource, LeadStage };
/** The kinds in the order the form offers them (docs/acquisition.md "Channel codes"). */
export const CHANNEL_KIND_CHOICES: readonly ChannelKind[] = ['personal', 'team', 'event', 'delivery', 'lead'];
/** The board's columns, in the order a lead moves (lost last). */
export const LEAD_STAGE_ORDER: readonly LeadStage[] = [
  'new',
  'contacted',
  'added',
  'test_drive',
  'order',
  'delivered',
  'lost',
];
export const LEAD_SOURCE_CHOICES: readonly LeadSource[] = [
  'dcc',
  'autohome',
  'dongchedi',
  'yiche',
  'short_video',
  'walk_in',
  'owner_referral',
  'trade_in',
];

/** A channel as `presentChannel` answers it (src/domain/acquisition/channel.service.ts). */
export interface Channel {
  id: string;
  corpId: string;
  name: string;
  kind: ChannelKind;
  campaign: string | null;
  advisors: string[];
  skipVerify: boolean;
  cost: number | null;
  vehicleVin: string | null;
  state: string;
  qrCode: string | null;
  wecomUsers: string[];
  syncState: string;
  syncError: { code?: number; message?: string } | string | null;
  deletedAt: string | null;
  createdAt: string;
}

export interface ChannelDraft {
  name: string;
  kind: ChannelKind;
  campaign?: string | null;
  advisors: string[];
  skipVerify: boolean;
  cost?: number | null;
}

export interface ChannelKpis {
  channels: ChannelKpiRow[];
  unknown: { adds: number; states: Array<{ state: string; adds: number }> };
}

export interface LeadHistoryEntry {
  at: string;
  actor: string;
  action: string;
  detail?: Record<string, unknown>;
}

/** A lead as `presentLead` answers it; `name` and `mobile` only where the API opens them (audited). */
export interface Lead {
  id: string;
  corpId: string;
  source: LeadSource;
  sourceId: string | null;
  model: string | null;
  budget: string | null;
  preferredTime: string | null;
  name?: string | null;
  mobile?: string | null;
  stage: LeadStage;
  outcome: 'won' | 'lost' | null;
  lostReason: string | null;
  advisorUserid: string | null;
  assignedAt: string | null;
  firstContactAt: string | null;
  addedAt: string | null;
  customerId: string | null;
  repeatCount: number;
  slaDueAt: string | null;
  slaLevel: number;
  createdAt: string;
  history?: LeadHistoryEntry[];
}

const enc = encodeURIComponent;
const q = (params: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(params).filter((e): e is [string, string] => Boolean(e[1]))).toString();

/** The console's calls to `/api/v1/channels` (docs/acquisition.md "Channel codes"). */
export const channelsApi = {
  list: (corpId: string) => call<{ channels: Channel[] }>('GET', `/api/v1/channels?${q({ corpId })}`),
  kpis: (corpId: string) => call<ChannelKpis>('GET', `/api/v1/channels/kpis?${q({ corpId })}`),
  create: (corpId: string, draft: ChannelDraft) => call<Channel>('POST', '/api/v1/channels', { corpId, ...draft }),
  update: (corpId: string, id: string, patch: Partial<ChannelDraft>) =>
    call<Channel>('PATCH', `/api/v1/channels/${enc(id)}?${q({ corpId })}`, patch),
  remove: (corpId: string, id: string) => call<Channel>('DELETE', `/api/v1/channels/${enc(id)}?${q({ corpId })}`),
  /** The QR image through the bot (same origin, so a canvas may read it): see qr-print.ts. */
  qrUrl: (c: Pick<Channel, 'id' | 'corpId'>) => `/api/v1/channels/${enc(c.id)}/qr.png?${q({ corpId: c.corpId })}`,
};

export interface LeadFilter {
  stage?: LeadStage;
  source?: string;
  advisor?: string;
  unassigned?: 'true';
}

/** The console's calls to `/api/v1/leads` (docs/acquisition.md "Leads"). */
export const leadsApi = {
  list: (corpId: string, filter: LeadFilter = {}) =>
    call<{ leads: Lead[] }>('GET', `/api/v1/leads?${q({ corpId, ...filter, limit: '500' })}`),
  get: (corpId: string, id: string) => call<Lead>('GET', `/api/v1/leads/${enc(id)}?${q({ corpId })}`),
  contacted: (corpId: string, id: string) =>
    call<Lead>('POST', `/api/v1/leads/${enc(id)}/contacted?${q({ corpId })}`, {}),
  stage: (corpId: string, id: string, stage: LeadStage, lostReason?: string) =>
    call<Lead>('POST', `/api/v1/leads/${enc(id)}/stage?${q({ corpId })}`, {
      stage,
      ...(lostReason ? { lostReason } : {}),
    }),
  assign: (corpId: string, id: string, advisorUserid: string) =>
    call<Lead>('POST', `/api/v1/leads/${enc(id)}/assign?${q({ corpId })}`, { advisorUserid }),
};
