import type { RuleDraft } from '../../lib/api-types.js';

/**
 * The form's editing model of a rule. The API's shapes are discriminated unions (one per trigger,
 * action and attachment type); the form keeps every field of every type so switching a type
 * keeps what was typed, and `toDraft` sends only the fields of the chosen type, typed against the
 * server's own schema input (`RuleDraft`), so the form cannot drift from the API.
 */
export type DraftTrigger = RuleDraft['trigger'];
export type DraftAction = RuleDraft['actions'][number];
export type DraftConditions = NonNullable<RuleDraft['conditions']>;
export type DraftGuards = NonNullable<RuleDraft['guards']>;
export type DraftAttachment = NonNullable<Extract<DraftAction, { type: 'welcome' }>['attachments']>[number];
export type TriggerType = DraftTrigger['type'];
export type ActionType = DraftAction['type'];
export type AttachmentType = DraftAttachment['type'];
export type AnchorField = Extract<DraftTrigger, { type: 'date' }>['field'];
export type Lifecycle = NonNullable<DraftConditions['lifecycle']>[number];
export type DraftVehicleConditions = NonNullable<DraftConditions['vehicle']>;

/**
 * `owner.unreachable` rules act on a DMS vehicle, not a customer (docs/outcomes.md): only
 * vehicle conditions and `follow_up` apply, and there is no holdout.
 */
export const isVehicleTrigger = (type: TriggerType): boolean => type === 'owner.unreachable';
const isLeadTrigger = (type: TriggerType): boolean => type === 'lead.created' || type === 'lead.stage_changed';

/**
 * Parts of a rule the form has no fields for yet (lead conditions, the holdout share): kept as
 * loaded and sent back, so saving an edit in the form does not drop them. Each is sent only with a
 * trigger it is valid for (lead conditions with a lead trigger, no holdout for `owner.unreachable`).
 */
export interface KeptFields {
  lead?: DraftConditions['lead'];
  holdoutShare?: number;
}

export const TRIGGER_TYPES: readonly TriggerType[] = [
  'customer.added',
  'customer.tag_added',
  'customer.tag_removed',
  'customer.became_owner',
  'vehicle.linked',
  'customer.lost',
  'service.overdue',
  'owner.unreachable',
  'lead.created',
  'lead.stage_changed',
  'date',
  'inactivity',
];
export const ACTION_TYPES: readonly ActionType[] = [
  'tag',
  'welcome',
  'follow_up',
  'message_customer',
  'notify_advisor',
];
export const ATTACHMENT_TYPES: readonly AttachmentType[] = ['link', 'image', 'miniprogram'];
export const ANCHOR_FIELDS: readonly AnchorField[] = ['deliveryDate', 'insuranceExpiry', 'lastServiceDate', 'birthday'];
export const LIFECYCLES: readonly Lifecycle[] = ['prospect', 'owner', 'dormant', 'lost'];
export const MAX_ACTIONS = 10;
export const MAX_ATTACHMENTS = 9;

/** How a channel `state` is matched: not at all, exactly, or by prefix. */
export type StateMode = 'any' | 'equals' | 'prefix';

export interface TriggerEditor {
  type: TriggerType;
  stateMode: StateMode;
  state: string;
  /** `group/name` */
  tag: string;
  field: AnchorField;
  offset: string;
  days: number;
  /** `owner.unreachable`: the advisor's userid when the vehicle's sales advisor is unknown or inactive. */
  fallbackAdvisor: string;
}

export interface ConditionsEditor {
  channelMode: StateMode;
  channel: string;
  hasTags: string[];
  lacksTags: string[];
  lifecycle: Lifecycle[];
  vehicleModels: string[];
  ageMin: number | undefined;
  ageMax: number | undefined;
  advisors: string[];
  departments: number[];
  customerType: '' | 'wechat' | 'wecom';
}

/** `conditions.vehicle` of an `owner.unreachable` rule (kept apart from the customer conditions the broadcast form shares). */
export interface VehicleConditionsEditor {
  models: string[];
  deliveryMin: number | undefined;
  deliveryMax: number | undefined;
  serviceMin: number | undefined;
  serviceMax: number | undefined;
  salesAdvisors: string[];
}

export interface AttachmentEditor {
  type: AttachmentType;
  title: string;
  url: string;
  desc: string;
  picUrl: string;
  assetId: string;
  appid: string;
  page: string;
  picAssetId: string;
}

export interface ActionEditor {
  /** A stable key for v-for while actions are added and removed. */
  key: number;
  type: ActionType;
  add: string[];
  remove: string[];
  text: string;
  attachments: AttachmentEditor[];
  title: string;
  talkTrack: string;
  dueIn: string;
  at: string;
  sla: string;
  escalate: boolean;
  escalationAfter: string;
  escalationTo: 'manager' | 'direct_leader';
  flagAfter: string;
  reassign: boolean;
  format: 'text' | 'card';
}

/** `corp`: the corp's quiet hours (settings); `own`: this rule's window; `off`: none for this rule. */
export const QUIET_MODES = ['corp', 'own', 'off'] as const;
export type QuietMode = (typeof QUIET_MODES)[number];

export interface GuardsEditor {
  quiet: QuietMode;
  quietStart: string;
  quietEnd: string;
  monthlyCap: number;
}

export interface RuleEditor {
  name: string;
  description: string;
  scope: string;
  activeFrom: string;
  activeUntil: string;
  priority: number;
  trigger: TriggerEditor;
  conditions: ConditionsEditor;
  vehicle: VehicleConditionsEditor;
  actions: ActionEditor[];
  guards: GuardsEditor;
  kept: KeptFields;
}

let nextKey = 1;

export const tagText = (t: { group: string; name: string }): string => `${t.group}/${t.name}`;
/** `group/name` → a tag ref; without a slash the whole text is the name in group "标签". */
export function tagRef(text: string): { group: string; name: string } {
  const i = text.indexOf('/');
  return i < 0
    ? { group: '标签', name: text.trim() }
    : { group: text.slice(0, i).trim(), name: text.slice(i + 1).trim() };
}

export function newAttachment(type: AttachmentType = 'link'): AttachmentEditor {
  return { type, title: '', url: '', desc: '', picUrl: '', assetId: '', appid: '', page: '', picAssetId: '' };
}

export function newAction(type: ActionType): ActionEditor {
  return {
    key: nextKey++,
    type,
    add: [],
    remove: [],
    text: '',
    attachments: [],
    title: '',
    talkTrack: '',
    dueIn: '0d',
    at: '',
    sla: '24h',
    escalate: false,
    escalationAfter: '24h',
    escalationTo: 'manager',
    flagAfter: '',
    reassign: false,
    format: 'text',
  };
}

/** No condition: every customer. */
export function newConditions(): ConditionsEditor {
  return {
    channelMode: 'any',
    channel: '',
    hasTags: [],
    lacksTags: [],
    lifecycle: [],
    vehicleModels: [],
    ageMin: undefined,
    ageMax: undefined,
    advisors: [],
    departments: [],
    customerType: '',
  };
}

/** No vehicle condition: every unreachable vehicle. */
export function newVehicleConditions(): VehicleConditionsEditor {
  return {
    models: [],
    deliveryMin: undefined,
    deliveryMax: undefined,
    serviceMin: undefined,
    serviceMax: undefined,
    salesAdvisors: [],
  };
}

export function newRule(scope: string): RuleEditor {
  return {
    name: '',
    description: '',
    scope,
    activeFrom: '',
    activeUntil: '',
    priority: 100,
    trigger: {
      type: 'customer.added',
      stateMode: 'any',
      state: '',
      tag: '',
      field: 'deliveryDate',
      offset: '+150d at 10:00',
      days: 30,
      fallbackAdvisor: '',
    },
    conditions: newConditions(),
    vehicle: newVehicleConditions(),
    actions: [],
    guards: { quiet: 'corp', quietStart: '21:00', quietEnd: '09:00', monthlyCap: 4 },
    kept: {},
  };
}

const opt = (s: string): string | undefined => (s.trim() === '' ? undefined : s);
const stateOf = (mode: StateMode, value: string) =>
  mode === 'equals' ? { equals: value } : mode === 'prefix' ? { prefix: value } : undefined;

function triggerOf(t: TriggerEditor): DraftTrigger {
  switch (t.type) {
    case 'customer.added': {
      const state = stateOf(t.stateMode, t.state);
      return state ? { type: t.type, state } : { type: t.type };
    }
    case 'customer.tag_added':
    case 'customer.tag_removed':
      return { type: t.type, tag: tagRef(t.tag) };
    case 'date':
      return { type: 'date', field: t.field, offset: t.offset };
    case 'inactivity':
      return { type: 'inactivity', days: t.days };
    case 'owner.unreachable':
      return opt(t.fallbackAdvisor) ? { type: t.type, fallbackAdvisor: t.fallbackAdvisor.trim() } : { type: t.type };
    default:
      return { type: t.type };
  }
}

/** The editor's conditions as the API takes them (a rule's `conditions`, a broadcast's segment). */
export function conditionsOf(c: ConditionsEditor): DraftConditions {
  const out: DraftConditions = {};
  const channel = stateOf(c.channelMode, c.channel);
  if (channel) out.channel = channel;
  if (c.hasTags.length) out.hasTags = c.hasTags.map(tagRef);
  if (c.lacksTags.length) out.lacksTags = c.lacksTags.map(tagRef);
  if (c.lifecycle.length) out.lifecycle = [...c.lifecycle];
  if (c.vehicleModels.length) out.vehicleModels = [...c.vehicleModels];
  if (c.ageMin !== undefined || c.ageMax !== undefined)
    out.vehicleAgeMonths = {
      ...(c.ageMin !== undefined ? { min: c.ageMin } : {}),
      ...(c.ageMax !== undefined ? { max: c.ageMax } : {}),
    };
  if (c.advisors.length) out.advisors = [...c.advisors];
  if (c.departments.length) out.departments = [...c.departments];
  if (c.customerType) out.customerType = c.customerType;
  return out;
}

/** A cleared number input gives null at run time: it counts as not set. */
const isSet = (n: number | null | undefined): n is number => typeof n === 'number';
const rangeOf = (min: number | undefined, max: number | undefined) =>
  !isSet(min) && !isSet(max) ? undefined : { ...(isSet(min) ? { min } : {}), ...(isSet(max) ? { max } : {}) };

/** The vehicle conditions as the API takes them (`conditions.vehicle`; undefined when none is set). */
export function vehicleConditionsOf(v: VehicleConditionsEditor): DraftVehicleConditions | undefined {
  const out: DraftVehicleConditions = {};
  if (v.models.length) out.models = [...v.models];
  const delivery = rangeOf(v.deliveryMin, v.deliveryMax);
  if (delivery) out.daysSinceDelivery = delivery;
  const service = rangeOf(v.serviceMin, v.serviceMax);
  if (service) out.daysSinceService = service;
  if (v.salesAdvisors.length) out.salesAdvisors = [...v.salesAdvisors];
  return Object.keys(out).length ? out : undefined;
}

/**
 * Only the conditions of the chosen trigger's subject are sent: the vehicle's for
 * `owner.unreachable`, the customer's otherwise (what is typed in the hidden ones is kept in the
 * editor, as for other type switches).
 */
function ruleConditionsOf(r: RuleEditor): DraftConditions {
  if (!isVehicleTrigger(r.trigger.type)) {
    const out = conditionsOf(r.conditions);
    if (r.kept.lead && isLeadTrigger(r.trigger.type)) out.lead = r.kept.lead;
    return out;
  }
  const vehicle = vehicleConditionsOf(r.vehicle);
  return vehicle ? { vehicle } : {};
}

function attachmentOf(a: AttachmentEditor): DraftAttachment {
  switch (a.type) {
    case 'image':
      return { type: 'image', assetId: a.assetId };
    case 'miniprogram':
      return { type: 'miniprogram', title: a.title, appid: a.appid, page: a.page, picAssetId: a.picAssetId };
    default:
      return {
        type: 'link',
        title: a.title,
        url: a.url,
        ...(opt(a.desc) ? { desc: a.desc } : {}),
        ...(opt(a.picUrl) ? { picUrl: a.picUrl } : {}),
      };
  }
}

function actionOf(a: ActionEditor): DraftAction {
  switch (a.type) {
    case 'tag':
      return { type: 'tag', add: a.add.map(tagRef), remove: a.remove.map(tagRef) };
    case 'welcome':
    case 'message_customer':
      return { type: a.type, ...(opt(a.text) ? { text: a.text } : {}), attachments: a.attachments.map(attachmentOf) };
    case 'follow_up':
      return {
        type: 'follow_up',
        title: a.title,
        ...(opt(a.talkTrack) ? { talkTrack: a.talkTrack } : {}),
        dueIn: a.dueIn,
        ...(opt(a.at) ? { at: a.at } : {}),
        sla: a.sla,
        ...(a.escalate
          ? {
              escalation: {
                after: a.escalationAfter,
                to: a.escalationTo,
                ...(opt(a.flagAfter) ? { flagAfter: a.flagAfter } : {}),
                ...(a.reassign ? { reassign: true } : {}),
              },
            }
          : {}),
      };
    case 'notify_advisor':
      return {
        type: 'notify_advisor',
        format: a.format,
        ...(a.format === 'card' || opt(a.title) ? { title: a.title } : {}),
        text: a.text,
      };
  }
}

/** Inheriting the corp's quiet hours is leaving the field out. */
function quietHoursOf(g: GuardsEditor): Pick<DraftGuards, 'quietHours'> {
  if (g.quiet === 'corp') return {};
  return { quietHours: g.quiet === 'own' ? { start: g.quietStart, end: g.quietEnd } : null };
}

/** The editor as the body the API takes (`POST /rules`, `PUT /rules/:id`, `POST /rules/preview`). */
export function toDraft(r: RuleEditor): RuleDraft {
  return {
    name: r.name,
    ...(opt(r.description) ? { description: r.description } : {}),
    scope: r.scope,
    ...(opt(r.activeFrom) ? { activeFrom: r.activeFrom } : {}),
    ...(opt(r.activeUntil) ? { activeUntil: r.activeUntil } : {}),
    priority: r.priority,
    trigger: triggerOf(r.trigger),
    conditions: ruleConditionsOf(r),
    actions: r.actions.map(actionOf),
    guards: { ...quietHoursOf(r.guards), monthlyCap: r.guards.monthlyCap },
    ...(r.kept.holdoutShare !== undefined && !isVehicleTrigger(r.trigger.type)
      ? { holdoutShare: r.kept.holdoutShare }
      : {}),
  };
}

function attachmentEditor(a: DraftAttachment): AttachmentEditor {
  return { ...newAttachment(a.type), ...a } as AttachmentEditor;
}

function actionEditor(a: DraftAction): ActionEditor {
  const e = newAction(a.type);
  switch (a.type) {
    case 'tag':
      return { ...e, add: (a.add ?? []).map(tagText), remove: (a.remove ?? []).map(tagText) };
    case 'welcome':
    case 'message_customer':
      return { ...e, text: a.text ?? '', attachments: (a.attachments ?? []).map(attachmentEditor) };
    case 'follow_up':
      return {
        ...e,
        title: a.title,
        talkTrack: a.talkTrack ?? '',
        dueIn: a.dueIn ?? '0d',
        at: a.at ?? '',
        sla: a.sla ?? '24h',
        escalate: Boolean(a.escalation),
        escalationAfter: a.escalation?.after ?? '24h',
        escalationTo: a.escalation?.to ?? 'manager',
        flagAfter: a.escalation?.flagAfter ?? '',
        reassign: a.escalation?.reassign ?? false,
      };
    case 'notify_advisor':
      return { ...e, format: a.format ?? 'text', title: a.title ?? '', text: a.text };
  }
}

/** A stored rule (or a version) back into the editor. */
export function fromDraft(d: RuleDraft): RuleEditor {
  const r = newRule(d.scope);
  r.name = d.name;
  r.description = d.description ?? '';
  r.activeFrom = d.activeFrom ?? '';
  r.activeUntil = d.activeUntil ?? '';
  r.priority = d.priority ?? 100;
  const t = d.trigger;
  r.trigger.type = t.type;
  if (t.type === 'customer.added' && t.state) {
    r.trigger.stateMode = t.state.equals !== undefined ? 'equals' : 'prefix';
    r.trigger.state = t.state.equals ?? t.state.prefix ?? '';
  }
  if (t.type === 'customer.tag_added' || t.type === 'customer.tag_removed') r.trigger.tag = tagText(t.tag);
  if (t.type === 'date') Object.assign(r.trigger, { field: t.field, offset: t.offset });
  if (t.type === 'inactivity') r.trigger.days = t.days;
  if (t.type === 'owner.unreachable') r.trigger.fallbackAdvisor = t.fallbackAdvisor ?? '';
  const c = d.conditions ?? {};
  if (c.channel)
    Object.assign(r.conditions, {
      channelMode: c.channel.equals !== undefined ? 'equals' : 'prefix',
      channel: c.channel.equals ?? c.channel.prefix ?? '',
    });
  Object.assign(r.conditions, {
    hasTags: (c.hasTags ?? []).map(tagText),
    lacksTags: (c.lacksTags ?? []).map(tagText),
    lifecycle: [...(c.lifecycle ?? [])],
    vehicleModels: [...(c.vehicleModels ?? [])],
    ageMin: c.vehicleAgeMonths?.min,
    ageMax: c.vehicleAgeMonths?.max,
    advisors: [...(c.advisors ?? [])],
    departments: [...(c.departments ?? [])],
    customerType: c.customerType ?? '',
  });
  const v = c.vehicle ?? {};
  r.vehicle = {
    models: [...(v.models ?? [])],
    deliveryMin: v.daysSinceDelivery?.min,
    deliveryMax: v.daysSinceDelivery?.max,
    serviceMin: v.daysSinceService?.min,
    serviceMax: v.daysSinceService?.max,
    salesAdvisors: [...(v.salesAdvisors ?? [])],
  };
  r.kept = {
    // A copy (the body may be a reactive version from the history), JSON-only data.
    ...(c.lead ? { lead: JSON.parse(JSON.stringify(c.lead)) as DraftConditions['lead'] } : {}),
    ...(d.holdoutShare !== undefined ? { holdoutShare: d.holdoutShare } : {}),
  };
  r.actions = d.actions.map(actionEditor);
  const g = d.guards;
  if (g) {
    r.guards.quiet = g.quietHours === undefined ? 'corp' : g.quietHours === null ? 'off' : 'own';
    if (g.quietHours) Object.assign(r.guards, { quietStart: g.quietHours.start, quietEnd: g.quietHours.end });
    if (g.monthlyCap !== undefined) r.guards.monthlyCap = g.monthlyCap;
  }
  return r;
}
