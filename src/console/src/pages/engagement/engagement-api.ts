import type { Ref } from 'vue';
import { ApiError, call } from '../../lib/api.js';
import type { CampaignReport } from '../outcomes/outcomes-api.js';

const enc = encodeURIComponent;

export interface BroadcastRow {
  id: string;
  corpId: string;
  name: string;
  status: 'pending_approval' | 'approved' | 'sending' | 'sent' | 'cancelled' | 'rejected';
  chatType: 'single' | 'group';
  scheduledAt: string;
  createdBy: string;
  approvedBy?: string;
  parentId?: string;
}
export interface AdvisorProgressRow {
  userid: string;
  state: 'sent' | 'unconfirmed' | 'failed' | 'cancelled';
  stateWords: string;
  customers: { sent: number; pending: number; failed: number };
  groups: { sent: number; planned: number };
  failures: Array<{ reason: string; count: number }>;
}
export interface BroadcastDetail extends BroadcastRow {
  totals: { sent: number; pending: number; failed: number; groupsSent: number; groupsPlanned: number };
  progress: AdvisorProgressRow[];
}
export interface BroadcastPreview {
  customers: number;
  groups: number;
  calls: number;
  /** `messages`: the 群发助手 tasks the advisor confirms (one per distinct text with customer variables). */
  advisors: Array<{ userid: string; customers: number; groups: number; excluded: number; messages: number }>;
  maxMessagesPerAdvisor: number;
  excluded: Array<{ reason: string; words: string; count: number }>;
}
export interface BroadcastDraft {
  corpId: string;
  name: string;
  audience:
    | { kind: 'segment'; segmentId?: string; conditions: Record<string, unknown> }
    | { kind: 'groups'; purposeTag: string };
  content: { text: string };
  scheduledAt: string;
  holdoutPercent: number;
}
/** A preview counts the audience: the text may still be empty (docs/engagement.md, "The API"). */
export type BroadcastPreviewDraft = Pick<BroadcastDraft, 'corpId' | 'audience' | 'holdoutPercent'> &
  Partial<Pick<BroadcastDraft, 'content'>>;
/** A saved segment (`/api/v1/segments`; docs/engagement.md, "Saved segments"). */
export interface SegmentRow {
  id: string;
  corpId: string;
  name: string;
  conditions: Record<string, unknown>;
}
export interface MomentRow {
  id: string;
  name: string;
  text: string;
  images?: Array<{ assetId: string; contentItemId?: string }>;
  link?: { title: string; url: string; coverAssetId: string; coverContentItemId?: string };
  status: 'pending' | 'creating' | 'active' | 'done' | 'ended' | 'failed';
  advisors: string[];
  published: number;
  pending: number;
  error?: string;
  publishStatus: Array<{ userid: string; published: boolean; reach?: number }>;
}
/** An image item of the content library (`GET /api/v1/content?kind=image`). */
export interface LibraryImage {
  id: string;
  scope: string;
  title: string;
  assetId?: string;
}
/** The Moments form's attachment choice: nothing, library images, or one link with a library cover. */
export interface MomentAttachmentDraft {
  kind: 'none' | 'images' | 'link';
  imageIds: string[];
  linkTitle: string;
  linkUrl: string;
  coverId: string;
}
export interface MomentDraft {
  corpId: string;
  name: string;
  text: string;
  tagIds: string[];
  advisors: string[];
  images?: Array<{ contentItemId: string }>;
  link?: { title: string; url: string; cover?: { contentItemId: string } };
}
/** A broadcast's holdout report (`GET /api/v1/broadcasts/:id/report`): the rules' report figures. */
export type BroadcastReport = Omit<CampaignReport, 'ruleId'> & {
  broadcastId: string;
  name: string;
  status: BroadcastRow['status'];
  holdoutPercent: number;
};
/** A group welcome template (`/api/v1/group-welcome-templates`) with its WeCom sync state. */
export interface WelcomeTemplateRow {
  id: string;
  label: string;
  text?: string;
  imageUrl?: string;
  link?: { title: string; url: string; picurl?: string; desc?: string };
  notify: boolean;
  syncStatus: 'pending' | 'synced' | 'failed';
  syncError?: string;
  wecomTemplateId?: string;
}
/** What the form sends: a text and at most one attachment (an image URL or a link), as WeCom keeps one. */
export interface WelcomeTemplateDraft {
  corpId: string;
  label: string;
  text?: string;
  imageUrl?: string;
  link?: { title: string; url: string; picurl?: string; desc?: string };
  notify: boolean;
}
export interface GroupRow {
  chatId: string;
  name: string;
  owner?: string;
  members: number;
  customers: number;
  purposeTags: string[];
}

/**
 * The engagement pages' calls: `/api/v1/broadcasts`, `/api/v1/segments`, `/api/v1/moments`,
 * `/api/v1/groups`, `/api/v1/group-welcome-templates`.
 */
export const engagementApi = {
  broadcasts: (corpId: string) =>
    call<{ broadcasts: BroadcastRow[] }>('GET', `/api/v1/broadcasts?corpId=${enc(corpId)}`),
  broadcast: (id: string) => call<BroadcastDetail>('GET', `/api/v1/broadcasts/${enc(id)}`),
  previewDraft: (draft: BroadcastPreviewDraft) => call<BroadcastPreview>('POST', '/api/v1/broadcasts/preview', draft),
  createBroadcast: (draft: BroadcastDraft) => call<{ id: string }>('POST', '/api/v1/broadcasts', draft),
  approve: (id: string) => call<{ status: string }>('POST', `/api/v1/broadcasts/${enc(id)}/approve`, {}),
  cancel: (id: string) => call<{ status: string }>('POST', `/api/v1/broadcasts/${enc(id)}/cancel`, {}),
  segments: (corpId: string) => call<{ segments: SegmentRow[] }>('GET', `/api/v1/segments?corpId=${enc(corpId)}`),
  saveSegment: (body: { corpId: string; name: string; conditions: Record<string, unknown> }) =>
    call<SegmentRow>('POST', '/api/v1/segments', body),
  moments: (corpId: string) => call<{ moments: MomentRow[] }>('GET', `/api/v1/moments?corpId=${enc(corpId)}`),
  createMoment: (body: MomentDraft) => call<{ id: string }>('POST', '/api/v1/moments', body),
  libraryImages: () => call<{ items: LibraryImage[] }>('GET', '/api/v1/content?kind=image'),
  broadcastReport: (id: string, windowDays?: number) =>
    call<BroadcastReport>(
      'GET',
      `/api/v1/broadcasts/${enc(id)}/report${windowDays ? `?windowDays=${windowDays}` : ''}`,
    ),
  groups: (corpId: string, purposeTag?: string) =>
    call<{ groups: GroupRow[] }>(
      'GET',
      `/api/v1/groups?corpId=${enc(corpId)}${purposeTag ? `&purposeTag=${enc(purposeTag)}` : ''}`,
    ),
  setPurposeTags: (corpId: string, chatId: string, purposeTags: string[]) =>
    call<{ chatId: string; purposeTags: string[] }>('PATCH', `/api/v1/groups/${enc(chatId)}`, { corpId, purposeTags }),
  welcomeTemplates: (corpId: string) =>
    call<{ templates: WelcomeTemplateRow[] }>('GET', `/api/v1/group-welcome-templates?corpId=${enc(corpId)}`),
  addWelcomeTemplate: (draft: WelcomeTemplateDraft) =>
    call<{ id: string; syncStatus: string }>('POST', '/api/v1/group-welcome-templates', draft),
  editWelcomeTemplate: (id: string, draft: WelcomeTemplateDraft) =>
    call<{ id: string; syncStatus: string }>('PUT', `/api/v1/group-welcome-templates/${enc(id)}`, draft),
  deleteWelcomeTemplate: (corpId: string, id: string) =>
    call<{ id: string; deleted: boolean }>(
      'DELETE',
      `/api/v1/group-welcome-templates/${enc(id)}?corpId=${enc(corpId)}`,
    ),
  groupKpis: (corpId: string, from: string, to: string, purposeTag?: string) =>
    call<Record<string, number | null>>(
      'GET',
      `/api/v1/groups/kpis?corpId=${enc(corpId)}&from=${enc(from)}&to=${enc(to)}${
        purposeTag ? `&purposeTag=${enc(purposeTag)}` : ''
      }`,
    ),
};

/** A failed call in words: a 4xx's per-field problems (`/link/url: Invalid URL`) or its message. */
export const explainFailure = (err: unknown): string =>
  err instanceof ApiError && err.details.length
    ? err.details.map((d) => `${d.path}: ${d.message}`).join('; ')
    : (err as Error).message;

/** Runs a form's action with `busy` set; a failure is put into `problem` in words (`explainFailure`). */
export async function runShowingProblem(
  busy: Ref<boolean>,
  problem: Ref<string>,
  action: () => Promise<void>,
): Promise<void> {
  problem.value = '';
  busy.value = true;
  try {
    await action();
  } catch (err) {
    problem.value = explainFailure(err);
  } finally {
    busy.value = false;
  }
}

/** Splits a comma, space or newline separated list (advisor userids, tag ids). */
export const listOf = (text: string): string[] => [...new Set(text.split(/[\s,，]+/).filter(Boolean))];

/** The attachments of a Moments draft as the API takes them (library items by id). */
export function momentAttachments(d: MomentAttachmentDraft): Pick<MomentDraft, 'images' | 'link'> {
  if (d.kind === 'images') return { images: d.imageIds.map((contentItemId) => ({ contentItemId })) };
  if (d.kind === 'link')
    return {
      link: {
        title: d.linkTitle.trim(),
        url: d.linkUrl.trim(),
        ...(d.coverId ? { cover: { contentItemId: d.coverId } } : {}),
      },
    };
  return {};
}
