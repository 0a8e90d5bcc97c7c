import { XMLParser, XMLValidator } from 'fast-xml-parser';

/**
 * Decrypted callback XML → a typed event (docs/wecom.md §2). A discriminated union on `kind`; each
 * variant carries a registry `key` (`change_external_contact.add_external_contact`,
 * `message.text`, `enter_agent` …) that handlers are registered under. Anything not recognised
 * becomes `unknown` with its raw fields: stored and counted, never an error.
 *
 * Parsing has DTD and entity processing off (and refuses `<!DOCTYPE`/`<!ENTITY` outright); the
 * five predefined XML entities and numeric references are decoded by a linear pass of our own.
 * Every value stays a string unless listed as numeric: `MsgId` exceeds 2^53.
 */

/** Fields every callback carries (docs/wecom.md §2 common fields). */
export interface EventBase {
  key: string;
  /** `ToUserName`: the corp id (or suite id). */
  toUserName: string;
  /** `FromUserName`: `sys` for system events, else the member's UserID. */
  fromUserName: string;
  /** `CreateTime`, unix seconds. */
  createTime: number;
  agentId?: string;
}

export type ExternalContactChange =
  | 'add_external_contact'
  | 'edit_external_contact'
  | 'add_half_external_contact'
  | 'del_external_contact'
  | 'del_follow_user'
  | 'transfer_fail'
  | 'msg_audit_approved';
export type ContactChange =
  'create_user' | 'update_user' | 'delete_user' | 'create_party' | 'update_party' | 'delete_party' | 'update_tag';
export type MessageType = 'text' | 'image' | 'voice' | 'video' | 'location' | 'link';
export type AppActivityEvent =
  | 'inactive_alert'
  | 'close_inactive_agent'
  | 'reopen_inactive_agent'
  | 'low_active_alert'
  | 'low_active'
  | 'active_restored';

export interface ExternalContactEvent extends EventBase {
  kind: 'change_external_contact';
  changeType: ExternalContactChange;
  userId: string;
  externalUserId: string;
  state?: string;
  welcomeCode?: string;
  /** `DELETE_BY_TRANSFER` on del_external_contact after an in-service transfer. */
  source?: string;
  /** transfer_fail: `customer_refused` or `customer_limit_exceed`. */
  failReason?: string;
}

export interface ExternalChatEvent extends EventBase {
  kind: 'change_external_chat';
  changeType: 'create' | 'update' | 'dismiss';
  chatId: string;
  updateDetail?: string;
  joinScene?: number;
  quitScene?: number;
  memChangeCnt?: number;
  memChangeList: string[];
  lastMemVer?: string;
  curMemVer?: string;
}

export interface ExternalTagEvent extends EventBase {
  kind: 'change_external_tag';
  changeType: 'create' | 'update' | 'delete' | 'shuffle';
  id: string;
  tagType?: string;
  strategyId?: string;
}

export interface ContactEvent extends EventBase {
  kind: 'change_contact';
  changeType: ContactChange;
  userId?: string;
  newUserId?: string;
  /** Department ids (`Department`, comma list). */
  departments?: string[];
  mainDepartment?: string;
  status?: number;
  /** Party (department) events: `Id`, `ParentId`. */
  id?: string;
  parentId?: string;
  tagId?: string;
  /** Every other field as sent (Name, Mobile …: personal data, never logged). */
  fields: Record<string, string>;
}

export interface SelectedItem {
  questionKey: string;
  optionIds: string[];
}

export interface TemplateCardEvent extends EventBase {
  kind: 'template_card_event' | 'template_card_menu_event';
  eventKey: string;
  taskId: string;
  cardType: string;
  responseCode: string;
  selectedItems: SelectedItem[];
}

export interface MemberMessage extends EventBase {
  kind: 'message';
  msgType: MessageType;
  /** 64-bit id as a string. */
  msgId: string;
  content?: string;
  mediaId?: string;
  picUrl?: string;
  format?: string;
  thumbMediaId?: string;
  fields: Record<string, string>;
}

export interface SimpleAppEvent extends EventBase {
  kind: 'enter_agent' | 'subscribe' | 'unsubscribe' | 'msgaudit_notify';
  eventKey?: string;
}

export interface AppActivity extends EventBase {
  kind: 'app_activity';
  event: AppActivityEvent;
  effectTime?: string;
}

export interface UnknownEvent extends EventBase {
  kind: 'unknown';
  msgType: string;
  event?: string;
  changeType?: string;
  raw: Record<string, unknown>;
}

export type TypedEvent =
  | ExternalContactEvent
  | ExternalChatEvent
  | ExternalTagEvent
  | ContactEvent
  | TemplateCardEvent
  | MemberMessage
  | SimpleAppEvent
  | AppActivity
  | UnknownEvent;

/** The XML could not be read at all: a permanent failure (retrying cannot help). */
export class EventParseError extends Error {
  override name = 'EventParseError';
}

const CDATA = '__cdata';

const parser = new XMLParser({
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  processEntities: false,
  htmlEntities: false,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  cdataPropName: CDATA,
  isArray: (name) => name === 'Item' || name === 'SelectedItem' || name === 'OptionId',
});

const EXTERNAL_CONTACT_CHANGES = new Set<string>([
  'add_external_contact',
  'edit_external_contact',
  'add_half_external_contact',
  'del_external_contact',
  'del_follow_user',
  'transfer_fail',
  'msg_audit_approved',
]);
const CONTACT_CHANGES = new Set<string>([
  'create_user',
  'update_user',
  'delete_user',
  'create_party',
  'update_party',
  'delete_party',
  'update_tag',
]);
const MESSAGE_TYPES = new Set<string>(['text', 'image', 'voice', 'video', 'location', 'link']);
const ACTIVITY_EVENTS = new Set<string>([
  'inactive_alert',
  'close_inactive_agent',
  'reopen_inactive_agent',
  'low_active_alert',
  'low_active',
  'active_restored',
]);

/** Parses decrypted callback XML. Throws EventParseError only when it is not readable XML with a `<xml>` root. */
export function parseEvent(xml: string): TypedEvent {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw new EventParseError('DTD or entity declaration refused');
  if (XMLValidator.validate(xml) !== true) throw new EventParseError('not well-formed XML');
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch (err) {
    throw new EventParseError(`unreadable XML: ${(err as Error).message}`);
  }
  const root = (doc as { xml?: unknown }).xml;
  if (!root || typeof root !== 'object' || Array.isArray(root)) throw new EventParseError('no <xml> root element');
  return toEvent(root as Record<string, unknown>);
}

function toEvent(r: Record<string, unknown>): TypedEvent {
  const f = (name: string): string | undefined => text(r[name]);
  const base = {
    toUserName: f('ToUserName') ?? '',
    fromUserName: f('FromUserName') ?? '',
    createTime: Number(f('CreateTime') ?? 0) || 0,
    ...opt('agentId', f('AgentID')),
  };
  const msgType = f('MsgType') ?? '';
  const event = f('Event');
  const changeType = f('ChangeType');
  const unknown = (): UnknownEvent => ({
    ...base,
    kind: 'unknown',
    key: 'unknown',
    msgType,
    ...opt('event', event),
    ...opt('changeType', changeType),
    raw: r,
  });

  if (msgType !== 'event') {
    if (!MESSAGE_TYPES.has(msgType)) return unknown();
    return {
      ...base,
      kind: 'message',
      key: `message.${msgType}`,
      msgType: msgType as MessageType,
      msgId: f('MsgId') ?? '',
      ...opt('content', f('Content')),
      ...opt('mediaId', f('MediaId')),
      ...opt('picUrl', f('PicUrl')),
      ...opt('format', f('Format')),
      ...opt('thumbMediaId', f('ThumbMediaId')),
      fields: flat(r),
    };
  }
  switch (event) {
    case 'change_external_contact':
      if (!changeType || !EXTERNAL_CONTACT_CHANGES.has(changeType)) return unknown();
      return {
        ...base,
        kind: 'change_external_contact',
        key: `change_external_contact.${changeType}`,
        changeType: changeType as ExternalContactChange,
        userId: f('UserID') ?? '',
        externalUserId: f('ExternalUserID') ?? '',
        ...opt('state', f('State')),
        ...opt('welcomeCode', f('WelcomeCode')),
        ...opt('source', f('Source')),
        ...opt('failReason', f('FailReason')),
      };
    case 'change_external_chat': {
      if (changeType !== 'create' && changeType !== 'update' && changeType !== 'dismiss') return unknown();
      const list = r.MemChangeList as { Item?: unknown[] } | undefined;
      return {
        ...base,
        kind: 'change_external_chat',
        key: `change_external_chat.${changeType}`,
        changeType,
        chatId: f('ChatId') ?? '',
        ...opt('updateDetail', f('UpdateDetail')),
        ...opt('joinScene', num(f('JoinScene'))),
        ...opt('quitScene', num(f('QuitScene'))),
        ...opt('memChangeCnt', num(f('MemChangeCnt'))),
        memChangeList: (list?.Item ?? []).map(text).filter((v): v is string => v !== undefined),
        ...opt('lastMemVer', f('LastMemVer')),
        ...opt('curMemVer', f('CurMemVer')),
      };
    }
    case 'change_external_tag':
      if (changeType !== 'create' && changeType !== 'update' && changeType !== 'delete' && changeType !== 'shuffle')
        return unknown();
      return {
        ...base,
        kind: 'change_external_tag',
        key: `change_external_tag.${changeType}`,
        changeType,
        id: f('Id') ?? '',
        ...opt('tagType', f('TagType')),
        ...opt('strategyId', f('StrategyId')),
      };
    case 'change_contact':
      if (!changeType || !CONTACT_CHANGES.has(changeType)) return unknown();
      return {
        ...base,
        kind: 'change_contact',
        key: `change_contact.${changeType}`,
        changeType: changeType as ContactChange,
        ...opt('userId', f('UserID')),
        ...opt('newUserId', f('NewUserID')),
        ...opt(
          'departments',
          f('Department')
            ?.split(',')
            .map((d) => d.trim())
            .filter(Boolean),
        ),
        ...opt('mainDepartment', f('MainDepartment')),
        ...opt('status', num(f('Status'))),
        ...opt('id', f('Id')),
        ...opt('parentId', f('ParentId')),
        ...opt('tagId', f('TagId')),
        fields: flat(r),
      };
    case 'template_card_event':
    case 'template_card_menu_event':
      return {
        ...base,
        kind: event,
        key: event,
        eventKey: f('EventKey') ?? '',
        taskId: f('TaskId') ?? '',
        cardType: f('CardType') ?? '',
        responseCode: f('ResponseCode') ?? '',
        selectedItems: selectedItems(r.SelectedItems),
      };
    case 'enter_agent':
    case 'subscribe':
    case 'unsubscribe':
    case 'msgaudit_notify':
      return { ...base, kind: event, key: event, ...opt('eventKey', f('EventKey')) };
    default:
      if (event && ACTIVITY_EVENTS.has(event))
        return {
          ...base,
          kind: 'app_activity',
          key: `app_activity.${event}`,
          event: event as AppActivityEvent,
          ...opt('effectTime', f('EffectTime')),
        };
      return unknown();
  }
}

function selectedItems(value: unknown): SelectedItem[] {
  const items = (value as { SelectedItem?: unknown[] } | undefined)?.SelectedItem ?? [];
  return items.map((item) => {
    const i = (item ?? {}) as Record<string, unknown>;
    const options = (i.OptionIds as { OptionId?: unknown[] } | undefined)?.OptionId ?? [];
    return {
      questionKey: text(i.QuestionKey) ?? '',
      optionIds: options.map(text).filter((v): v is string => v !== undefined),
    };
  });
}

/** Every scalar child as a decoded string (nested elements are left out). */
function flat(r: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(r)) {
    const t = text(v);
    if (t !== undefined) out[k] = t;
  }
  return out;
}

function text(value: unknown): string | undefined {
  if (typeof value === 'string') return decodeEntities(value);
  if (value && typeof value === 'object' && !Array.isArray(value) && CDATA in value) {
    // CDATA is literal: no entity decoding. Mixed CDATA + text keeps both, in document order as parsed.
    const cdata = (value as Record<string, unknown>)[CDATA];
    const extra = (value as Record<string, unknown>)['#text'];
    const joined =
      (Array.isArray(cdata) ? cdata.map(String).join('') : String(cdata)) +
      (typeof extra === 'string' ? decodeEntities(extra) : '');
    return joined;
  }
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function num(value: string | undefined): number | undefined {
  if (value === undefined || !/^-?\d{1,15}$/.test(value)) return undefined;
  return Number(value);
}

function opt<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Decodes the predefined entities and numeric references in one linear pass; nothing else expands. */
export function decodeEntities(value: string): string {
  if (!value.includes('&')) return value;
  return value.replace(
    /&(?:#(\d{1,7})|#x([0-9a-fA-F]{1,6})|(amp|lt|gt|quot|apos));/g,
    (whole, dec?: string, hex?: string, name?: string) => {
      if (name) return NAMED[name] ?? whole;
      const code = dec ? Number(dec) : Number.parseInt(hex ?? '', 16);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    },
  );
}
