import { z } from 'zod';

const base = { corpId: z.string().min(1) };

/** Inputs of the callback driver's actions (`POST /__sandbox/actions/<name>` or `driver.<name>()`). */
export const actionSchemas = {
  addCustomer: z.object({
    ...base,
    userid: z.string().min(1),
    /** An existing customer (adds another advisor), or omit and describe a new one in `customer`. */
    externalUserId: z.string().optional(),
    customer: z
      .object({
        external_userid: z.string().optional(),
        name: z.string().default('新客户'),
        type: z.number().int().default(1),
        gender: z.number().int().default(0),
      })
      .optional(),
    /** Channel `state` of the 联系我 QR code (≤ 30 chars). */
    state: z.string().max(30).optional(),
    addWay: z.number().int().default(1),
    /** 免验证 half-add: add_half_external_contact, relationship unusable (84061) until confirmed. */
    half: z.boolean().default(false),
    /** Issue a WelcomeCode (absent in WeCom when an admin welcome is configured etc.). */
    welcomeCode: z.boolean().default(true),
  }),
  /**
   * A WeChat user scans a 「联系我」 code the bot made: the customer adds one of the code's members
   * (a multi-member code picks among them, or `userid` when given) with the code's `state`.
   */
  scanContactWay: z.object({
    ...base,
    configId: z.string().min(1),
    userid: z.string().min(1).optional(),
    externalUserId: z.string().optional(),
    customer: z
      .object({
        external_userid: z.string().optional(),
        name: z.string().default('新客户'),
        type: z.number().int().default(1),
        gender: z.number().int().default(0),
      })
      .optional(),
    welcomeCode: z.boolean().default(true),
  }),
  editRelationship: z.object({
    ...base,
    userid: z.string().min(1),
    externalUserId: z.string().min(1),
    remark: z.string().max(20).optional(),
    description: z.string().max(150).optional(),
    remarkMobiles: z.array(z.string()).optional(),
    /** Tag ids or names. */
    addTags: z.array(z.string()).default([]),
    removeTags: z.array(z.string()).default([]),
  }),
  customerDeletesAdvisor: z.object({ ...base, userid: z.string().min(1), externalUserId: z.string().min(1) }),
  advisorDeletesCustomer: z.object({
    ...base,
    userid: z.string().min(1),
    externalUserId: z.string().min(1),
    source: z.string().optional(),
  }),
  transferFails: z.object({
    ...base,
    /** The intended taker. */
    userid: z.string().min(1),
    externalUserId: z.string().min(1),
    reason: z.enum(['customer_refused', 'customer_limit_exceed']).default('customer_refused'),
  }),
  changeTags: z.object({
    ...base,
    change: z.enum(['create', 'update', 'delete', 'shuffle']),
    tagType: z.enum(['tag', 'tag_group']).default('tag'),
    /** update/delete: the tag or group id; shuffle: the group (empty = all). */
    id: z.string().optional(),
    groupId: z.string().optional(),
    groupName: z.string().max(30).optional(),
    name: z.string().max(30).optional(),
    order: z.number().int().optional(),
  }),
  changeMember: z.object({
    ...base,
    change: z.enum(['create_user', 'update_user', 'delete_user']),
    userid: z.string().min(1),
    name: z.string().optional(),
    department: z.array(z.number().int()).optional(),
    isLeaderInDept: z.array(z.number().int()).optional(),
    directLeader: z.array(z.string()).optional(),
    position: z.string().optional(),
    newUserId: z.string().optional(),
  }),
  clickCardButton: z.object({
    ...base,
    userid: z.string().min(1),
    taskId: z.string().min(1),
    eventKey: z.string().min(1),
    selectedItems: z.array(z.object({ questionKey: z.string(), optionIds: z.array(z.string()) })).default([]),
  }),
  memberTextsApp: z.object({ ...base, userid: z.string().min(1), content: z.string().min(1).max(2048) }),
  confirmMassSend: z.object({ ...base, msgid: z.string().min(1), userid: z.string().min(1) }),
  /** A customer group changes in the client (docs/wecom.md §11.4): delivers `change_external_chat`. */
  changeGroup: z.object({
    ...base,
    change: z.enum(['create', 'add_member', 'del_member', 'change_owner', 'change_name', 'change_notice', 'dismiss']),
    /** Omit on create for a generated `wr…` id. */
    chatId: z.string().optional(),
    /** create: the owner; change_owner: the new owner. */
    owner: z.string().optional(),
    name: z.string().max(40).optional(),
    notice: z.string().max(1000).optional(),
    /** create/add_member/del_member: member userids or external_userids. */
    members: z.array(z.string().min(1)).default([]),
    admins: z.array(z.string()).optional(),
    /** 1 invited directly, 2 invite link, 3 group QR. */
    joinScene: z.union([z.literal(1), z.literal(2), z.literal(3)]).default(1),
    /** 0 left, 1 removed by the owner or an admin. */
    quitScene: z.union([z.literal(0), z.literal(1)]).default(0),
  }),
  /** The advisor publishes a Moments task in the client (no callback exists for this). */
  publishMoment: z.object({ ...base, momentId: z.string().min(1), userid: z.string().min(1) }),
} as const;

export type ActionName = keyof typeof actionSchemas;
export type ActionInput<N extends ActionName> = z.input<(typeof actionSchemas)[N]>;
