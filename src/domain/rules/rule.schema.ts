import { z } from 'zod';
import { LEAD_SOURCES, LEAD_STAGES } from '../acquisition/lead.types.js';
import { quietHoursSchema } from '../tasks/task-settings.js';
import { DATE_OFFSET_PATTERN, DURATION_PATTERN, LOCAL_TIME_PATTERN } from './durations.js';

/**
 * The campaign rule (docs/architecture.md §5): the single definition used by the admin API, the
 * engine, the OpenAPI document and docs/rules.md. Messages are written for the marketing person
 * who sent the rule: each says what to write instead.
 */

const duration = z
  .string()
  .regex(DURATION_PATTERN, { error: 'use a duration like 3d or 48h (d = days, h = hours, m = minutes)' });
const localTime = z.string().regex(LOCAL_TIME_PATTERN, { error: 'use a 24-hour local time like 09:30' });
const dateOffset = z
  .string()
  .regex(DATE_OFFSET_PATTERN, { error: 'use an offset like +150d at 10:00 or -60d at 09:30' });
const shortText = (max: number, what: string) =>
  z
    .string()
    .trim()
    .min(1, { error: `${what} cannot be empty` })
    .max(max, { error: `${what}: at most ${max} characters` });
const tagName = z
  .string()
  .trim()
  .min(1, { error: 'a tag name cannot be empty' })
  .max(30, { error: 'WeCom allows at most 30 characters in a tag or group name' });
const httpsUrl = z
  .string()
  .url({ error: 'use a full https:// link' })
  .refine((u) => u.startsWith('https://'), { error: 'use an https:// link' });
const assetId = z.string().regex(/^[a-f0-9]{24}$/, { error: 'use the id returned by POST /api/v1/media' });

/** A corp tag by group and name; created on demand when a rule adds it (docs/wecom.md §3.7). */
export const tagRefSchema = z.object({ group: tagName, name: tagName }).strict();
export type TagRef = z.infer<typeof tagRefSchema>;

export const ANCHOR_FIELDS = ['deliveryDate', 'insuranceExpiry', 'lastServiceDate', 'birthday'] as const;
export type AnchorField = (typeof ANCHOR_FIELDS)[number];

const stateMatch = z
  .object({
    equals: z.string().min(1).max(30).optional(),
    prefix: z.string().min(1).max(30).optional(),
  })
  .strict()
  .refine((s) => (s.equals === undefined) !== (s.prefix === undefined), { error: 'give either equals or prefix' });

export const triggerSchema = z.discriminatedUnion(
  'type',
  [
    z.object({ type: z.literal('customer.added'), state: stateMatch.optional() }).strict(),
    z.object({ type: z.literal('customer.tag_added'), tag: tagRefSchema }).strict(),
    z.object({ type: z.literal('customer.tag_removed'), tag: tagRefSchema }).strict(),
    z.object({ type: z.literal('customer.became_owner') }).strict(),
    z.object({ type: z.literal('vehicle.linked') }).strict(),
    z.object({ type: z.literal('customer.lost') }).strict(),
    /** The owner became dormant: no repair order for the corp's `outcomes.dormantMonths` (win-back; docs/outcomes.md). */
    z.object({ type: z.literal('service.overdue') }).strict(),
    /** A new lead was stored (docs/acquisition.md "Leads"); the lead's advisor, if routed, is the advisor. */
    z.object({ type: z.literal('lead.created') }).strict(),
    /** A lead moved forward or was lost or won (docs/acquisition.md "Matching and stages"). */
    z.object({ type: z.literal('lead.stage_changed') }).strict(),
    z
      .object({
        type: z.literal('date'),
        /** Birthday repeats yearly; vehicle dates count once per date value. */
        field: z.enum(ANCHOR_FIELDS, { error: `use one of ${ANCHOR_FIELDS.join(', ')}` }),
        offset: dateOffset,
      })
      .strict(),
    /**
     * A DMS vehicle whose owner the dealer cannot reach on WeCom (no linked customer with an active
     * relationship), once per unreachable episode, found by the daily outcomes run (docs/outcomes.md,
     * "Add this owner on WeCom" tasks). Its subject is the vehicle; only `follow_up` (a task for
     * the vehicle's sales advisor, else `fallbackAdvisor`) and vehicle conditions apply.
     */
    z
      .object({
        type: z.literal('owner.unreachable'),
        /** Who gets the task when the vehicle's sales advisor from the DMS is unknown or no longer active. */
        fallbackAdvisor: z
          .string()
          .regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'is not a WeCom userid' })
          .optional(),
      })
      .strict(),
    /** No completed follow-up task for the customer for `days` days (evaluated daily per corp; docs/tasks.md). */
    z
      .object({
        type: z.literal('inactivity'),
        days: z.number().int().min(1, { error: 'at least 1 day' }).max(3650, { error: 'at most 3650 days' }),
      })
      .strict(),
  ],
  {
    error:
      'trigger.type must be one of customer.added, customer.tag_added, customer.tag_removed, customer.became_owner, vehicle.linked, customer.lost, service.overdue, owner.unreachable, lead.created, lead.stage_changed, date, inactivity',
  },
);
export type Trigger = z.infer<typeof triggerSchema>;
export type TriggerType = Trigger['type'];

export const LEAD_TRIGGERS = ['lead.created', 'lead.stage_changed'] as const;
export const isLeadTrigger = (type: string): boolean => (LEAD_TRIGGERS as readonly string[]).includes(type);

const leadStages = z
  .array(z.enum(LEAD_STAGES, { error: `use one of ${LEAD_STAGES.join(', ')}` }))
  .min(1)
  .optional();

/** Conditions on the lead of a lead trigger (docs/acquisition.md "Leads"); all given must hold. */
export const leadConditionsSchema = z
  .object({
    sources: z
      .array(z.enum(LEAD_SOURCES, { error: `use one of ${LEAD_SOURCES.join(', ')}` }))
      .min(1)
      .optional(),
    /** The model of interest contains one of these (case-insensitive), as routing rules match it. */
    models: z.array(z.string().trim().min(1).max(60)).min(1).max(100).optional(),
    /** The lead's stage after the event. */
    stages: leadStages,
    /** `lead.stage_changed` only: the stage it left. */
    fromStages: leadStages,
    /** `lead.stage_changed` only: the stage it reached. */
    toStages: leadStages,
    /** The lost reason contains one of these (case-insensitive). */
    lostReasons: z.array(z.string().trim().min(1).max(100)).min(1).max(50).optional(),
    /** Hours since the lead was created, at the event. */
    ageHours: z
      .object({ min: z.number().min(0).optional(), max: z.number().min(0).optional() })
      .strict()
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { error: 'min must not exceed max' })
      .optional(),
  })
  .strict();
export type LeadConditions = z.infer<typeof leadConditionsSchema>;

const dayRange = z
  .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
  .strict()
  .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { error: 'min must not exceed max' })
  .optional();

/** Conditions on the DMS vehicle of an `owner.unreachable` rule (docs/outcomes.md); all given must hold. */
export const vehicleConditionsSchema = z
  .object({
    /** The vehicle's model contains one of these (case-insensitive). */
    models: z.array(z.string().trim().min(1).max(60)).min(1).max(100).optional(),
    /** Whole days since delivery (a vehicle without a delivery date does not match a range). */
    daysSinceDelivery: dayRange,
    /** Whole days since the last service the DMS reported (none reported: does not match a range). */
    daysSinceService: dayRange,
    /** The vehicle's sales advisor from the DMS is one of these WeCom userids. */
    salesAdvisors: z
      .array(z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'is not a WeCom userid' }))
      .min(1)
      .max(500)
      .optional(),
  })
  .strict();
export type VehicleConditions = z.infer<typeof vehicleConditionsSchema>;

export const conditionsSchema = z
  .object({
    channel: stateMatch.optional(),
    hasTags: z.array(tagRefSchema).max(20).optional(),
    lacksTags: z.array(tagRefSchema).max(20).optional(),
    lifecycle: z
      .array(z.enum(['prospect', 'owner', 'dormant', 'lost'], { error: 'use prospect, owner, dormant or lost' }))
      .min(1)
      .optional(),
    vehicleModels: z.array(z.string().trim().min(1).max(60)).min(1).max(100).optional(),
    /** Age of the newest delivered vehicle in whole months. */
    vehicleAgeMonths: z
      .object({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })
      .strict()
      .refine((r) => r.min === undefined || r.max === undefined || r.min <= r.max, { error: 'min must not exceed max' })
      .optional(),
    /** The (responsible or adding) advisor is one of these WeCom userids. */
    advisors: z
      .array(z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'is not a WeCom userid' }))
      .min(1)
      .max(500)
      .optional(),
    /** The advisor belongs to one of these WeCom department ids. */
    departments: z.array(z.number().int().positive()).min(1).max(200).optional(),
    /** 1 = WeChat user, 2 = WeCom user (docs/wecom.md §6.5). */
    customerType: z.enum(['wechat', 'wecom']).optional(),
    /** Lead triggers only: conditions on the lead. */
    lead: leadConditionsSchema.optional(),
    /** `owner.unreachable` only: conditions on the DMS vehicle. */
    vehicle: vehicleConditionsSchema.optional(),
  })
  .strict();
export type Conditions = z.infer<typeof conditionsSchema>;

/** Welcome rules run before the customer is fetched: only what the add event and caches tell. */
export const WELCOME_CONDITION_KEYS = ['channel', 'advisors', 'departments'] as const;

export const attachmentSchema = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('link'),
        title: shortText(42, 'title'),
        url: httpsUrl,
        desc: z.string().max(170).optional(),
        picUrl: httpsUrl.optional(),
      })
      .strict(),
    /** An image uploaded with POST /api/v1/media; sent as a WeCom temporary media id, re-uploaded before its 3-day expiry. */
    z.object({ type: z.literal('image'), assetId }).strict(),
    z
      .object({
        type: z.literal('miniprogram'),
        title: shortText(21, 'title'),
        appid: z.string().regex(/^wx[0-9a-f]{16}$/, { error: 'a mini program appid looks like wx0123456789abcdef' }),
        page: z.string().min(1).max(256),
        picAssetId: assetId,
      })
      .strict(),
  ],
  { error: 'attachment type must be link, image or miniprogram' },
);
export type Attachment = z.infer<typeof attachmentSchema>;

const messageText = z
  .string()
  .trim()
  .min(1, { error: 'the text cannot be empty' })
  .refine((t) => Buffer.byteLength(t) <= 4000, {
    error: 'WeCom accepts at most 4000 bytes of text (about 1300 Chinese characters)',
  });

export const actionSchema = z.discriminatedUnion(
  'type',
  [
    z
      .object({
        type: z.literal('tag'),
        add: z.array(tagRefSchema).max(20).default([]),
        remove: z.array(tagRefSchema).max(20).default([]),
      })
      .strict()
      .refine((a) => a.add.length + a.remove.length > 0, { error: 'name at least one tag to add or remove' }),
    z
      .object({
        type: z.literal('welcome'),
        text: messageText.optional(),
        attachments: z.array(attachmentSchema).max(9, { error: 'WeCom allows at most 9 attachments' }).default([]),
      })
      .strict()
      .refine((a) => a.text !== undefined || a.attachments.length > 0, {
        error: 'a welcome needs text or at least one attachment',
      }),
    z
      .object({
        type: z.literal('follow_up'),
        title: shortText(60, 'title'),
        talkTrack: z.string().trim().max(1000, { error: 'talk track: at most 1000 characters' }).optional(),
        /** After the trigger (for a `date` trigger: after the computed date). */
        dueIn: duration.default('0d'),
        /** Local time of day of the due moment (optional; otherwise the exact offset). */
        at: localTime.optional(),
        /** How long the advisor has before the task is overdue. */
        sla: duration.default('24h'),
        /** Ladder after due (docs/tasks.md): `after` escalates to the leader; `flagAfter` flags (and `reassign` offers a reassignment). Corp defaults otherwise. */
        escalation: z
          .object({
            after: duration,
            to: z.enum(['manager', 'direct_leader']).default('manager'),
            flagAfter: duration.optional(),
            reassign: z.boolean().optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
    z
      .object({
        type: z.literal('message_customer'),
        text: messageText.optional(),
        attachments: z.array(attachmentSchema).max(9, { error: 'WeCom allows at most 9 attachments' }).default([]),
      })
      .strict()
      .refine((a) => a.text !== undefined || a.attachments.length > 0, {
        error: 'a message needs text or at least one attachment',
      }),
    z
      .object({
        type: z.literal('notify_advisor'),
        format: z.enum(['text', 'card']).default('text'),
        title: shortText(36, 'title').optional(),
        text: z.string().trim().min(1).max(600, { error: 'at most 600 characters' }),
      })
      .strict()
      .refine((a) => a.format === 'text' || a.title !== undefined, { error: 'a card needs a title' }),
  ],
  { error: 'action type must be tag, welcome, follow_up, message_customer or notify_advisor' },
);
export type Action = z.infer<typeof actionSchema>;
export type ActionType = Action['type'];

export const guardsSchema = z
  .object({
    /**
     * This rule's own quiet hours in the corp's zone; `null` switches them off for this rule, and
     * leaving it out uses the corp's (settings; 21:00–09:00 unless changed).
     */
    quietHours: quietHoursSchema.nullable().optional(),
    /** Customer messages per customer per calendar month, across all rules (never beyond WeCom's quota). */
    monthlyCap: z.number().int().min(1).max(31).default(4),
  })
  .strict();
export type Guards = z.infer<typeof guardsSchema>;

const isoDateTime = z.iso.datetime({ offset: true, error: 'use an ISO date-time like 2026-06-01T00:00:00+08:00' });

/** The part of a rule that is versioned (everything but enabled/scope switches). */
const ruleBodyObject = z
  .object({
    name: shortText(100, 'name'),
    description: z.string().max(1000).optional(),
    /** `all` = every dealer corp (OEM-wide); otherwise one corp id. */
    scope: z.union([z.literal('all'), z.string().regex(/^[A-Za-z0-9_-]{1,64}$/)], { error: 'use all, or a corp id' }),
    activeFrom: isoDateTime.optional(),
    activeUntil: isoDateTime.optional(),
    /** Higher runs first; the highest matching welcome rule wins. */
    priority: z.number().int().min(0).max(1000).default(100),
    trigger: triggerSchema,
    conditions: conditionsSchema.default({}),
    actions: z
      .array(actionSchema)
      .min(1, { error: 'a rule needs at least one action' })
      .max(10, { error: 'at most 10 actions per rule' }),
    guards: guardsSchema.default({ monthlyCap: 4 }),
    /**
     * Share of matching customers held out as a control group (0.01–0.5): they receive none of the
     * rule's actions (a welcome excepted) and their outcomes are tracked all the same, so the
     * campaign report can show the uplift. Assignment is a keyed hash of customer and rule.
     */
    holdoutShare: z
      .number()
      .min(0.01, { error: 'at least 0.01 (1 %), or leave it out' })
      .max(0.5, { error: 'at most 0.5 (half the customers)' })
      .optional(),
  })
  .strict();

type RuleBodyShape = z.infer<typeof ruleBodyObject>;

/** Cross-field checks: active window order, and what welcome rules may use (docs/architecture.md §5). */
function refineRule(rule: RuleBodyShape, ctx: z.RefinementCtx): void {
  if (rule.activeFrom && rule.activeUntil && Date.parse(rule.activeFrom) >= Date.parse(rule.activeUntil)) {
    ctx.addIssue({ code: 'custom', path: ['activeUntil'], message: 'must be after activeFrom' });
  }
  refineLeadRule(rule, ctx);
  refineOwnerUnreachableRule(rule, ctx);
  rule.actions.forEach((action, i) => {
    if (action.type !== 'welcome') return;
    if (rule.trigger.type !== 'customer.added')
      ctx.addIssue({
        code: 'custom',
        path: ['actions', i, 'type'],
        message: 'a welcome can only run on the customer.added trigger',
      });
    for (const key of Object.keys(rule.conditions)) {
      if (!(WELCOME_CONDITION_KEYS as readonly string[]).includes(key)) {
        ctx.addIssue({
          code: 'custom',
          path: ['conditions', key],
          message: `a welcome rule runs before the customer is known; use only ${WELCOME_CONDITION_KEYS.join(', ')}`,
        });
      }
    }
    if (rule.actions.filter((a) => a.type === 'welcome').length > 1)
      ctx.addIssue({ code: 'custom', path: ['actions', i], message: 'only one welcome per rule' });
  });
}

/** Lead conditions go with lead triggers; from/to stages with `lead.stage_changed` (docs/acquisition.md "Rules on leads"). */
function refineLeadRule(rule: RuleBodyShape, ctx: z.RefinementCtx): void {
  const lead = rule.conditions.lead;
  if (lead && !isLeadTrigger(rule.trigger.type))
    ctx.addIssue({
      code: 'custom',
      path: ['conditions', 'lead'],
      message: 'lead conditions need a lead trigger (lead.created or lead.stage_changed)',
    });
  for (const key of ['fromStages', 'toStages'] as const) {
    if (lead?.[key] && rule.trigger.type !== 'lead.stage_changed')
      ctx.addIssue({
        code: 'custom',
        path: ['conditions', 'lead', key],
        message: `${key} needs the lead.stage_changed trigger`,
      });
  }
}

/**
 * `owner.unreachable` acts on a DMS vehicle whose owner is not on WeCom (docs/outcomes.md): there
 * is no customer to message, tag, welcome or hold out, so only a task (`follow_up`) and the
 * vehicle conditions apply; vehicle conditions in turn need that trigger.
 */
function refineOwnerUnreachableRule(rule: RuleBodyShape, ctx: z.RefinementCtx): void {
  if (rule.trigger.type !== 'owner.unreachable') {
    if (rule.conditions.vehicle)
      ctx.addIssue({
        code: 'custom',
        path: ['conditions', 'vehicle'],
        message:
          'vehicle conditions need the owner.unreachable trigger; for customers use vehicleModels and vehicleAgeMonths',
      });
    return;
  }
  rule.actions.forEach((action, i) => {
    if (action.type !== 'follow_up')
      ctx.addIssue({
        code: 'custom',
        path: ['actions', i, 'type'],
        message:
          'an owner.unreachable rule can only create a task (follow_up) for the advisor: the owner is not on WeCom yet, so there is nobody to message, tag or welcome',
      });
  });
  for (const key of Object.keys(rule.conditions)) {
    if (key !== 'vehicle')
      ctx.addIssue({
        code: 'custom',
        path: ['conditions', key],
        message:
          'an owner.unreachable rule has no customer to check; use only conditions.vehicle (models, daysSinceDelivery, daysSinceService, salesAdvisors)',
      });
  }
  if (rule.holdoutShare !== undefined)
    ctx.addIssue({
      code: 'custom',
      path: ['holdoutShare'],
      message: 'an owner.unreachable rule has no customers to hold out; leave holdoutShare out',
    });
}

export const ruleBodySchema = ruleBodyObject.superRefine(refineRule);
export type RuleBody = z.infer<typeof ruleBodySchema>;
export type RuleBodyInput = z.input<typeof ruleBodySchema>;

/** `POST /rules`: the body plus whether to start enabled. */
export const ruleCreateSchema = ruleBodyObject.extend({ enabled: z.boolean().default(false) }).superRefine(refineRule);
export type RuleCreate = z.infer<typeof ruleCreateSchema>;

export function isWelcomeRule(body: Pick<RuleBody, 'actions'>): boolean {
  return body.actions.some((a) => a.type === 'welcome');
}
