/** The sandbox's world: what one WeCom corp knows (docs/wecom.md §3, §6). Plain data, JSON-friendly. */

export interface CallbackCreds {
  token: string;
  encodingAesKey: string;
  /** Where to POST (the bot's `/wecom/callback/:corpId` or `/wecom/contact-sync/:corpId`). */
  url?: string;
}

export interface Department {
  id: number;
  name: string;
  parentid: number;
  order: number;
}

export interface Member {
  userid: string;
  name: string;
  department: number[];
  isLeaderInDept: number[];
  directLeader: string[];
  mainDepartment: number;
  position: string;
  /** 1 active, 2 disabled, 4 not activated, 5 left. */
  status: number;
  /** Inside the app's visible range (60011 otherwise). */
  visible: boolean;
  /** Customer contact enabled (使用范围). */
  customerContact: boolean;
  /** When the member left (unix s), for resigned transfers. */
  dimissionTime?: number;
}

export interface Customer {
  external_userid: string;
  name: string;
  type: number;
  gender: number;
  unionid?: string;
  avatar?: string;
}

export type FollowStatus = 'active' | 'deleted_by_customer' | 'half';

export interface Follow {
  userid: string;
  external_userid: string;
  remark: string;
  description: string;
  remark_corp_name?: string;
  remark_mobiles: string[];
  createtime: number;
  add_way: number;
  oper_userid: string;
  state?: string;
  tagIds: string[];
  personalTags: Array<{ group_name: string; tag_name: string }>;
  status: FollowStatus;
}

export interface TagGroup {
  group_id: string;
  group_name: string;
  create_time: number;
  order: number;
  /** Created through the API by this app (only those may be edited or deleted: docs/wecom.md §3.7). */
  createdByApp: boolean;
}

export interface Tag {
  id: string;
  name: string;
  group_id: string;
  create_time: number;
  order: number;
  createdByApp: boolean;
}

export interface WelcomeCode {
  code: string;
  userid: string;
  external_userid: string;
  issuedAtMs: number;
  used: boolean;
}

export interface SentWelcome {
  atMs: number;
  userid: string;
  external_userid: string;
  text?: string;
  attachments: number;
}

export interface AppMessage {
  msgid: string;
  atMs: number;
  msgtype: string;
  /** Members who received it. */
  touser: string[];
  /** Members WeCom dropped it for silently (over their per-minute or per-hour app message limit). */
  dropped?: string[];
  body: unknown;
  taskId?: string;
  responseCode?: string;
}

export interface ResponseCode {
  code: string;
  taskId: string;
  userids: string[];
  issuedAtMs: number;
  used: boolean;
  source: 'send' | 'callback';
}

export interface CardUpdate {
  atMs: number;
  responseCode: string;
  taskId: string;
  body: unknown;
}

export interface MassTask {
  msgid: string;
  createdAtMs: number;
  chatType: 'single' | 'group';
  /** Group sends: per sender, per chat_id: 0 unsent, 1 sent. */
  chats?: Record<string, Record<string, { status: number; sendTime?: number }>>;
  text?: string;
  attachments: number;
  /** Per sender: targeted customers and per-customer status (0 unsent, 1 sent, 2 not friend, 3 quota). */
  senders: Record<
    string,
    { status: 0 | 2; sendTime?: number; customers: Record<string, { status: number; sendTime?: number }> }
  >;
  cancelled: boolean;
  reminders: number[];
}

export interface Media {
  media_id: string;
  type: string;
  createdAtMs: number;
  bytes: number;
  /** `media/upload_attachment` only: 1 Moments, 2 product album (docs/wecom.md §12.3). */
  attachmentType?: number;
}

export interface OAuthCode {
  code: string;
  userid: string;
  issuedAtMs: number;
  used: boolean;
}

export interface Transfer {
  kind: 'in_service' | 'resigned';
  handover_userid: string;
  takeover_userid: string;
  external_userid: string;
  startedAtMs: number;
  takeoverAtMs: number;
  /** 1 done, 2 waiting, 3 refused, 4 taker at limit. */
  status: number;
}

/** A member of a customer group (docs/wecom.md §11.2): type 1 staff, 2 external contact. */
export interface GroupMember {
  userid: string;
  type: 1 | 2;
  join_time: number;
  /** 1 invited directly, 2 invite link, 3 group QR. */
  join_scene: 1 | 2 | 3;
  invitor?: string;
  group_nickname?: string;
  name?: string;
}

/** A customer group (客户群, docs/wecom.md §11). */
export interface GroupChat {
  chat_id: string;
  name: string;
  owner: string;
  create_time: number;
  notice: string;
  members: GroupMember[];
  admins: string[];
  member_version: string;
  dismissed: boolean;
  /** 0 normal, 1 owner left awaiting inheritance, 2 inheriting, 3 inherited. */
  status: 0 | 1 | 2 | 3;
  /** When the group moved owner in service (ms), for the 2-per-90-days limit. */
  onjobMoves: number[];
}

export interface GroupWelcomeTemplate {
  template_id: string;
  text?: string;
  attachment?: Record<string, unknown>;
  createdByApp: boolean;
}

/** A Moments task (docs/wecom.md §12). */
export interface MomentTask {
  jobid: string;
  moment_id: string;
  createdAtMs: number;
  text?: string;
  attachments: number;
  /** The attachments' kind (`image`, `video`, `link`) when there are any. */
  attachmentKind?: string;
  tagIds: string[];
  /** Per publisher: published (unix s) or not yet. */
  senders: Record<string, { published: boolean; publishTime?: number }>;
  cancelled: boolean;
  invalidSenders: string[];
}

/** A 「联系我」 contact way made through the API (docs/wecom.md §9). */
export interface ContactWay {
  config_id: string;
  /** 1 single member, 2 multiple members. */
  type: number;
  /** 1 mini-program button, 2 QR code. */
  scene: number;
  style?: number;
  remark: string;
  skip_verify: boolean;
  state: string;
  user: string[];
  party: number[];
  qr_code?: string;
  createdAt: number;
}

export interface CorpWorld {
  corpId: string;
  name: string;
  agentId: number;
  secret: string;
  callback: CallbackCreds;
  contactSync?: CallbackCreds;
  departments: Department[];
  members: Member[];
  customers: Customer[];
  follows: Follow[];
  tagGroups: TagGroup[];
  tags: Tag[];
  welcomeCodes: WelcomeCode[];
  welcomes: SentWelcome[];
  messages: AppMessage[];
  responseCodes: ResponseCode[];
  cardUpdates: CardUpdate[];
  taskIds: string[];
  massTasks: MassTask[];
  /** `${external_userid}|YYYY-MM` → mass messages received (quota, docs/wecom.md §5). */
  massQuota: Record<string, number>;
  media: Media[];
  oauthCodes: OAuthCode[];
  transfers: Transfer[];
  groups: GroupChat[];
  groupWelcomeTemplates: GroupWelcomeTemplate[];
  moments: MomentTask[];
  /** Contact ways made through the API (optional: worlds saved before they existed lack it). */
  contactWays?: ContactWay[];
}
