import { z } from 'zod';
import { corpIdSchema } from '../corps/corp.types.js';
import { conditionsSchema } from '../rules/rule.schema.js';

/** A segment as written: a name and the rules' own conditions schema (one schema, docs/engagement.md). */
export const segmentInput = z
  .object({
    corpId: corpIdSchema,
    name: z.string().trim().min(1).max(60),
    conditions: conditionsSchema.default({}),
  })
  .strict();
export type SegmentInput = z.output<typeof segmentInput>;

/** An update names neither the corp (a segment stays in its corp) nor needs every field. */
export const segmentUpdate = z
  .object({ name: segmentInput.shape.name.optional(), conditions: conditionsSchema.optional() })
  .strict();
export type SegmentUpdate = z.output<typeof segmentUpdate>;

export const segmentListQuery = z.object({ corpId: corpIdSchema.optional() }).strict();
