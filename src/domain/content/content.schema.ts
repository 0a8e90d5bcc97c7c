import { z } from 'zod';
import { LIFECYCLE_STAGES } from '../customers/customer.model.js';

/** What a library item is (docs/console.md, "Content library"). */
export const CONTENT_KINDS = ['talk_track', 'article', 'image', 'miniprogram'] as const;
export type ContentKind = (typeof CONTENT_KINDS)[number];

const httpsUrl = (what: string) =>
  z
    .string()
    .trim()
    .max(1024)
    .regex(/^https:\/\/[^\s]+$/, { error: `${what} must be an https:// URL` });
const template = (max: number) => z.string().trim().min(1).max(max);
const objectId = (what: string) => z.string().regex(/^[a-f0-9]{24}$/, { error: `${what} (24 hex digits)` });

/** Who the item is offered for; an empty list means any (docs/console.md, "Content library"). */
const targeting = {
  stages: z.array(z.enum(LIFECYCLE_STAGES)).max(LIFECYCLE_STAGES.length).default([]),
  models: z.array(z.string().trim().min(1).max(64)).max(50).default([]),
  campaigns: z.array(objectId('a campaign rule id')).max(50).default([]),
};
const common = {
  /** `all` (every dealer; car maker and admin only) or one dealer corp id, like a rule's scope. */
  scope: z.string().min(1).max(64),
  title: z.string().trim().min(1).max(64),
  ...targeting,
};

/**
 * A library item as marketing writes it. Texts may use the talk-track variables `{客户}`, `{车型}`,
 * `{顾问}` (docs/tasks.md), rendered per customer in the sidebar.
 */
export const contentItemInput = z.discriminatedUnion(
  'kind',
  [
    z.object({ kind: z.literal('talk_track'), ...common, text: template(2000) }).strict(),
    z
      .object({
        kind: z.literal('article'),
        ...common,
        url: httpsUrl('url'),
        description: template(256).optional(),
        coverUrl: httpsUrl('coverUrl').optional(),
      })
      .strict(),
    z
      .object({ kind: z.literal('image'), ...common, assetId: objectId('an image id from POST /api/v1/media') })
      .strict(),
    z
      .object({
        kind: z.literal('miniprogram'),
        ...common,
        appid: z.string().regex(/^wx[0-9a-f]{16}$/, { error: 'appid: the mini-program appid (wx + 16 hex digits)' }),
        page: z
          .string()
          .trim()
          .max(256)
          .regex(/^[^\s]+\.html(\?[^\s]*)?$/, {
            error: 'page: the mini-program page path, ending in .html (docs/wecom.md §10.4)',
          }),
        coverUrl: httpsUrl('coverUrl'),
      })
      .strict(),
  ],
  { error: `kind must be one of ${CONTENT_KINDS.join(', ')}` },
);
export type ContentItemInput = z.infer<typeof contentItemInput>;

export const contentListQuery = z
  .object({
    scope: z.string().min(1).max(64).optional(),
    kind: z.enum(CONTENT_KINDS).optional(),
  })
  .strict();
