import { z } from 'zod';

const creds = z.object({
  token: z.string().regex(/^[A-Za-z0-9]{1,32}$/, 'Token: letters and digits, at most 32 (docs/wecom.md §1.1)'),
  encodingAesKey: z
    .string()
    .regex(/^[A-Za-z0-9]{43}$/, 'EncodingAESKey: exactly 43 letters or digits (docs/wecom.md §1.1)'),
  url: z.string().url().optional(),
});

const follow = z.object({
  userid: z.string(),
  remark: z.string().default(''),
  description: z.string().default(''),
  remark_mobiles: z.array(z.string()).default([]),
  remark_corp_name: z.string().optional(),
  state: z.string().max(30).optional(),
  add_way: z.number().int().default(1),
  /** Corp tag ids or names. */
  tags: z.array(z.string()).default([]),
  personalTags: z.array(z.object({ group_name: z.string(), tag_name: z.string() })).default([]),
  /** Unix seconds; default now minus a few days. */
  createtime: z.number().int().optional(),
  status: z.enum(['active', 'deleted_by_customer', 'half']).default('active'),
});

/** A seed scenario: `POST /__sandbox/seed`, `--seed path.json` (see docs/wecom-sandbox.md). */
export const seedSchema = z.object({
  /** Replace the whole world (default) or add corps to it. */
  mode: z.enum(['replace', 'merge']).default('replace'),
  corps: z.array(
    z.object({
      corpId: z
        .string()
        .regex(/^ww[0-9a-f]{16}$/, 'corpId: ww + 16 hex')
        .optional(),
      name: z.string().default('Sandbox corp'),
      agentId: z.number().int().default(1000002),
      secret: z.string().min(8).optional(),
      callback: creds.partial({ token: true, encodingAesKey: true }).default({}),
      contactSync: creds.partial({ token: true, encodingAesKey: true }).optional(),
      departments: z
        .array(
          z.object({
            id: z.number().int().positive(),
            name: z.string(),
            parentid: z.number().int().default(0),
            order: z.number().int().default(0),
          }),
        )
        .default([{ id: 1, name: 'Root', parentid: 0, order: 0 }]),
      members: z
        .array(
          z.object({
            userid: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/),
            name: z.string(),
            department: z.array(z.number().int()).default([1]),
            isLeaderInDept: z.array(z.number().int()).optional(),
            directLeader: z.array(z.string()).default([]),
            position: z.string().default(''),
            status: z.number().int().default(1),
            visible: z.boolean().default(true),
            customerContact: z.boolean().default(true),
            dimissionTime: z.number().int().optional(),
          }),
        )
        .default([]),
      tagGroups: z
        .array(
          z.object({
            group_id: z.string().optional(),
            group_name: z.string().max(30),
            order: z.number().int().default(0),
            createdByApp: z.boolean().default(true),
            tags: z
              .array(
                z.object({ id: z.string().optional(), name: z.string().max(30), order: z.number().int().default(0) }),
              )
              .min(1),
          }),
        )
        .default([]),
      customers: z
        .array(
          z.object({
            external_userid: z
              .string()
              .regex(/^w[mo][A-Za-z0-9_-]{10,62}$/)
              .optional(),
            name: z.string(),
            type: z.number().int().default(1),
            gender: z.number().int().default(0),
            unionid: z.string().optional(),
            follows: z.array(follow).default([]),
          }),
        )
        .default([]),
    }),
  ),
});

export type SeedScenario = z.input<typeof seedSchema>;
export type ParsedSeed = z.output<typeof seedSchema>;
