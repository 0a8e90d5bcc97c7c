import type { Clock } from '../../../src/infra/clock.js';
import { buildCallbackEnvelope, type CallbackEnvelope } from '../../../src/wecom/callback-crypto.js';
import { newExternalUserId, newNumericMsgId, newOpaque } from '../world/ids.js';
import type { CallbackCreds, CorpWorld } from '../world/model.js';
import type { World } from '../world/world.js';
import { findCustomer, findFollow, findMember } from '../world/world.js';
import { actionSchemas, type ActionInput, type ActionName } from './action-schemas.js';
import { applyTagChange, applyMemberChange, confirmMassSend } from './world-changes.js';
import { deliver, type DeliveryOptions, type DeliveryReport } from './deliver.js';
import { eventXml, type XmlField } from './event-xml.js';
import { applyGroupChange } from './group-changes.js';
import { publishMoment } from './moment-changes.js';

/** A driver action that cannot run against the current world (HTTP 400/404 on the control API). */
export class DriverError extends Error {
  constructor(
    message: string,
    readonly status = 400,
  ) {
    super(message);
    this.name = 'DriverError';
  }
}

export interface ActionResult {
  delivery?: DeliveryReport;
  [key: string]: unknown;
}

/**
 * Changes the world the way a person in the WeCom client or admin console would, then delivers
 * the matching callback exactly as WeCom does: XML envelope, AES with the corp's EncodingAESKey,
 * `msg_signature`, 5 s timeout and 3 retries (docs/wecom.md §1, §2). Member changes go to the
 * contact-sync URL with its own Token/EncodingAESKey and reduced payloads (docs/wecom.md §1.1).
 */
export class CallbackDriver {
  readonly deliveries: DeliveryReport[] = [];
  private nextDelivery = 1;

  constructor(
    private readonly world: World,
    private readonly clock: Clock,
    private readonly delivery: DeliveryOptions,
  ) {}

  /** Runs an action by name with untrusted input (validated with zod). */
  run(name: ActionName, input: unknown): Promise<ActionResult> {
    switch (name) {
      case 'addCustomer':
        return this.addCustomer(actionSchemas.addCustomer.parse(input));
      case 'scanContactWay':
        return this.scanContactWay(actionSchemas.scanContactWay.parse(input));
      case 'editRelationship':
        return this.editRelationship(actionSchemas.editRelationship.parse(input));
      case 'customerDeletesAdvisor':
        return this.customerDeletesAdvisor(actionSchemas.customerDeletesAdvisor.parse(input));
      case 'advisorDeletesCustomer':
        return this.advisorDeletesCustomer(actionSchemas.advisorDeletesCustomer.parse(input));
      case 'transferFails':
        return this.transferFails(actionSchemas.transferFails.parse(input));
      case 'changeTags':
        return this.changeTags(actionSchemas.changeTags.parse(input));
      case 'changeMember':
        return this.changeMember(actionSchemas.changeMember.parse(input));
      case 'clickCardButton':
        return this.clickCardButton(actionSchemas.clickCardButton.parse(input));
      case 'memberTextsApp':
        return this.memberTextsApp(actionSchemas.memberTextsApp.parse(input));
      case 'confirmMassSend':
        return this.confirmMassSend(actionSchemas.confirmMassSend.parse(input));
      case 'changeGroup':
        return this.changeGroup(actionSchemas.changeGroup.parse(input));
      case 'publishMoment':
        return this.publishMoment(actionSchemas.publishMoment.parse(input));
    }
  }

  /** A customer adds an advisor (scans a 联系我 code with `state`); issues a 20 s welcome code. */
  async addCustomer(
    raw: ActionInput<'addCustomer'>,
  ): Promise<ActionResult & { externalUserId: string; welcomeCode?: string }> {
    const a = actionSchemas.addCustomer.parse(raw);
    const corp = this.corp(a.corpId);
    const member = this.member(corp, a.userid);
    let customer = a.externalUserId ? findCustomer(corp, a.externalUserId) : undefined;
    if (a.externalUserId && !customer) throw new DriverError(`unknown customer ${a.externalUserId}`, 404);
    if (!customer) {
      customer = {
        external_userid: a.customer?.external_userid ?? newExternalUserId(),
        name: a.customer?.name ?? '新客户',
        type: a.customer?.type ?? 1,
        gender: a.customer?.gender ?? 0,
      };
      corp.customers.push(customer);
    }
    const ext = customer.external_userid;
    const existing = findFollow(corp, member.userid, ext);
    if (existing?.status === 'active') throw new DriverError(`${member.userid} and ${ext} are already related`);
    const now = this.nowSec();
    const status = a.half ? 'half' : 'active';
    if (existing) Object.assign(existing, { status, state: a.state, add_way: a.addWay, createtime: now });
    else {
      corp.follows.push({
        userid: member.userid,
        external_userid: ext,
        remark: '',
        description: '',
        remark_mobiles: [],
        createtime: now,
        add_way: a.addWay,
        oper_userid: ext,
        state: a.state,
        tagIds: [],
        personalTags: [],
        status,
      });
    }
    let welcomeCode: string | undefined;
    if (a.welcomeCode && !corp.welcomes.some((w) => w.userid === member.userid && w.external_userid === ext)) {
      welcomeCode = newOpaque('wc', 40);
      corp.welcomeCodes.push({
        code: welcomeCode,
        userid: member.userid,
        external_userid: ext,
        issuedAtMs: this.clock.nowMs(),
        used: false,
      });
    }
    const delivery = await this.sendApp(
      corp,
      a.half ? 'add_half_external_contact' : 'add_external_contact',
      this.contactEvent(corp, a.half ? 'add_half_external_contact' : 'add_external_contact', member.userid, ext, [
        ['State', a.state],
        ['WelcomeCode', welcomeCode],
      ]),
    );
    return { externalUserId: ext, welcomeCode, delivery };
  }

  /** A scan of a contact way: an add through it, `State` = the code's state (docs/wecom.md §9). */
  async scanContactWay(
    raw: ActionInput<'scanContactWay'>,
  ): Promise<ActionResult & { externalUserId: string; userid: string }> {
    const a = actionSchemas.scanContactWay.parse(raw);
    const corp = this.corp(a.corpId);
    const way = (corp.contactWays ?? []).find((w) => w.config_id === a.configId);
    if (!way) throw new DriverError(`no contact way ${a.configId} (deleted, or never made)`, 404);
    const members = [
      ...new Set([
        ...way.user,
        ...corp.members
          .filter((m) => m.status === 1 && m.department.some((d) => way.party.includes(d)))
          .map((m) => m.userid),
      ]),
    ];
    if (members.length === 0) throw new DriverError(`contact way ${a.configId} has no members`);
    if (a.userid && !members.some((m) => m.toLowerCase() === a.userid?.toLowerCase()))
      throw new DriverError(`${a.userid} is not a member of contact way ${a.configId}`);
    const userid = a.userid ?? members[Math.floor(Math.random() * members.length)] ?? members[0]!;
    const out = await this.addCustomer({
      corpId: a.corpId,
      userid,
      externalUserId: a.externalUserId,
      customer: a.customer,
      state: way.state || undefined,
      addWay: 1,
      half: false,
      welcomeCode: a.welcomeCode,
    });
    return { ...out, userid };
  }

  /** The advisor edits remark, description, remark mobiles or corp tags in the client. */
  async editRelationship(raw: ActionInput<'editRelationship'>): Promise<ActionResult> {
    const a = actionSchemas.editRelationship.parse(raw);
    const corp = this.corp(a.corpId);
    const follow = this.follow(corp, a.userid, a.externalUserId);
    if (a.remark !== undefined) follow.remark = a.remark;
    if (a.description !== undefined) follow.description = a.description;
    if (a.remarkMobiles !== undefined) follow.remark_mobiles = a.remarkMobiles;
    const tagId = (ref: string) => {
      const tag = corp.tags.find((t) => t.id === ref || t.name === ref);
      if (!tag) throw new DriverError(`unknown tag ${ref}`, 404);
      return tag.id;
    };
    const next = new Set(follow.tagIds);
    for (const ref of a.addTags) next.add(tagId(ref));
    for (const ref of a.removeTags) next.delete(tagId(ref));
    follow.tagIds = [...next];
    const delivery = await this.sendApp(
      corp,
      'edit_external_contact',
      this.contactEvent(corp, 'edit_external_contact', follow.userid, follow.external_userid, []),
    );
    return { delivery };
  }

  /** The customer deletes the advisor: a one-way relationship remains; the APIs still work. */
  async customerDeletesAdvisor(raw: ActionInput<'customerDeletesAdvisor'>): Promise<ActionResult> {
    const a = actionSchemas.customerDeletesAdvisor.parse(raw);
    const corp = this.corp(a.corpId);
    const follow = this.follow(corp, a.userid, a.externalUserId);
    follow.status = 'deleted_by_customer';
    return {
      delivery: await this.sendApp(
        corp,
        'del_follow_user',
        this.contactEvent(corp, 'del_follow_user', follow.userid, follow.external_userid, []),
      ),
    };
  }

  /** The advisor deletes the customer: the relationship is gone (84061 afterwards). */
  async advisorDeletesCustomer(raw: ActionInput<'advisorDeletesCustomer'>): Promise<ActionResult> {
    const a = actionSchemas.advisorDeletesCustomer.parse(raw);
    const corp = this.corp(a.corpId);
    const follow = findFollow(corp, a.userid, a.externalUserId);
    if (!follow) throw new DriverError(`${a.userid} and ${a.externalUserId} are not related`, 404);
    corp.follows = corp.follows.filter((f) => f !== follow);
    const xml = this.contactEvent(corp, 'del_external_contact', follow.userid, follow.external_userid, [
      ['Source', a.source],
    ]);
    return { delivery: await this.sendApp(corp, 'del_external_contact', xml) };
  }

  /** A transfer to `userid` failed (customer refused or the taker is full). */
  async transferFails(raw: ActionInput<'transferFails'>): Promise<ActionResult> {
    const a = actionSchemas.transferFails.parse(raw);
    const corp = this.corp(a.corpId);
    this.member(corp, a.userid);
    for (const t of corp.transfers) {
      if (t.takeover_userid === a.userid && t.external_userid === a.externalUserId && t.status === 2)
        t.status = a.reason === 'customer_refused' ? 3 : 4;
    }
    const xml = this.contactEvent(corp, 'transfer_fail', a.userid, a.externalUserId, [['FailReason', a.reason]]);
    return { delivery: await this.sendApp(corp, 'transfer_fail', xml) };
  }

  /** An admin creates, renames, deletes or reorders corp tags in the console. */
  async changeTags(raw: ActionInput<'changeTags'>): Promise<ActionResult> {
    const a = actionSchemas.changeTags.parse(raw);
    const corp = this.corp(a.corpId);
    const { id, tagType } = applyTagChange(corp, a, this.nowSec(), (m) => new DriverError(m));
    const xml = eventXml([
      ...this.header(corp, 'sys', 'event'),
      ['Event', 'change_external_tag'],
      ['Id', id],
      ['TagType', a.change === 'shuffle' ? undefined : tagType],
      ['ChangeType', a.change],
    ]);
    return { id, delivery: await this.sendApp(corp, `change_external_tag/${a.change}`, xml) };
  }

  /** A member changes in the directory: sent like the contact-sync assistant (reduced payloads). */
  async changeMember(raw: ActionInput<'changeMember'>): Promise<ActionResult> {
    const a = actionSchemas.changeMember.parse(raw);
    const corp = this.corp(a.corpId);
    const { fields, notify } = applyMemberChange(corp, a, this.nowSec(), (m, s) => new DriverError(m, s));
    if (!notify)
      return {
        delivery: undefined,
        note: 'update_user only fires on department, leader or userid changes (docs/wecom.md §1.1)',
      };
    const xml = eventXml([
      ...this.header(corp, 'sys', 'event'),
      ['Event', 'change_contact'],
      ['ChangeType', a.change],
      ...fields,
    ]);
    if (!corp.contactSync)
      return {
        delivery: this.record(corp, a.change, '', xml, false, [{ error: 'corp has no contactSync config', ms: 0 }]),
      };
    return { delivery: await this.send(corp, corp.contactSync, a.change, xml, undefined) };
  }

  /** An advisor clicks a callback button on a card the app sent; issues a 72 h response code. */
  async clickCardButton(raw: ActionInput<'clickCardButton'>): Promise<ActionResult & { responseCode: string }> {
    const a = actionSchemas.clickCardButton.parse(raw);
    const corp = this.corp(a.corpId);
    const member = this.member(corp, a.userid);
    const sent = corp.messages.find((m) => m.taskId === a.taskId && m.touser.includes(member.userid.toLowerCase()));
    if (!sent) throw new DriverError(`no card with task_id ${a.taskId} was sent to ${a.userid}`, 404);
    const card = (sent.body as { template_card?: { card_type?: string } }).template_card;
    const responseCode = newOpaque('rc', 40);
    corp.responseCodes.push({
      code: responseCode,
      taskId: a.taskId,
      userids: [member.userid.toLowerCase()],
      issuedAtMs: this.clock.nowMs(),
      used: false,
      source: 'callback',
    });
    const selected: XmlField[] = a.selectedItems.map(
      (s) =>
        [
          'SelectedItem',
          [
            ['QuestionKey', s.questionKey],
            ['OptionIds', s.optionIds.map((o) => ['OptionId', o] as const)],
          ],
        ] as const,
    );
    const xml = eventXml([
      ...this.header(corp, member.userid, 'event'),
      ['Event', 'template_card_event'],
      ['EventKey', a.eventKey],
      ['TaskId', a.taskId],
      ['CardType', card?.card_type ?? 'button_interaction'],
      ['ResponseCode', responseCode],
      ['AgentID', corp.agentId],
      ...(selected.length ? [['SelectedItems', selected] as const] : []),
    ]);
    return { responseCode, delivery: await this.sendApp(corp, 'template_card_event', xml, true) };
  }

  /** An advisor sends the app a text message. */
  async memberTextsApp(raw: ActionInput<'memberTextsApp'>): Promise<ActionResult & { msgId: string }> {
    const a = actionSchemas.memberTextsApp.parse(raw);
    const corp = this.corp(a.corpId);
    const member = this.member(corp, a.userid);
    const msgId = newNumericMsgId();
    const xml = eventXml([
      ...this.header(corp, member.userid, 'text'),
      ['Content', a.content],
      ['MsgId', msgId],
      ['AgentID', corp.agentId],
    ]);
    return { msgId, delivery: await this.sendApp(corp, 'text', xml, true) };
  }

  /** An advisor opens a pending mass-send task and taps send (no callback exists for this). */
  confirmMassSend(raw: ActionInput<'confirmMassSend'>): Promise<ActionResult> {
    const a = actionSchemas.confirmMassSend.parse(raw);
    const corp = this.corp(a.corpId);
    return Promise.resolve(
      confirmMassSend(corp, a.msgid, this.member(corp, a.userid).userid, this.clock, (m, s) => new DriverError(m, s)),
    );
  }

  /** A customer group is created, changes or is dismissed in the client (docs/wecom.md §11.4). */
  async changeGroup(raw: ActionInput<'changeGroup'>): Promise<ActionResult & { chatId: string }> {
    const a = actionSchemas.changeGroup.parse(raw);
    const corp = this.corp(a.corpId);
    const { chatId, fields } = applyGroupChange(corp, a, this.nowSec(), (m, s) => new DriverError(m, s));
    const xml = eventXml([...this.header(corp, 'sys', 'event'), ['Event', 'change_external_chat'], ...fields]);
    return { chatId, delivery: await this.sendApp(corp, `change_external_chat/${a.change}`, xml) };
  }

  /** An advisor publishes a Moments task in the client (no callback exists for this). */
  publishMoment(raw: ActionInput<'publishMoment'>): Promise<ActionResult> {
    const a = actionSchemas.publishMoment.parse(raw);
    const corp = this.corp(a.corpId);
    return Promise.resolve(
      publishMoment(
        corp,
        a.momentId,
        this.member(corp, a.userid).userid,
        this.nowSec(),
        (m, s) => new DriverError(m, s),
      ),
    );
  }

  private contactEvent(corp: CorpWorld, change: string, userid: string, ext: string, extra: XmlField[]): string {
    return eventXml([
      ...this.header(corp, 'sys', 'event'),
      ['Event', 'change_external_contact'],
      ['ChangeType', change],
      ['UserID', userid],
      ['ExternalUserID', ext],
      ...extra,
    ]);
  }

  private header(corp: CorpWorld, from: string, msgType: string): XmlField[] {
    return [
      ['ToUserName', corp.corpId],
      ['FromUserName', from],
      ['CreateTime', this.nowSec()],
      ['MsgType', msgType],
    ];
  }

  private sendApp(corp: CorpWorld, kind: string, xml: string, withAgent = false): Promise<DeliveryReport> {
    return this.send(corp, corp.callback, kind, xml, withAgent ? String(corp.agentId) : undefined);
  }

  private async send(
    corp: CorpWorld,
    creds: CallbackCreds,
    kind: string,
    xml: string,
    agentId: string | undefined,
  ): Promise<DeliveryReport> {
    if (!creds.url) return this.record(corp, kind, '', xml, false, [{ error: 'no callback url configured', ms: 0 }]);
    const envelope = buildCallbackEnvelope({
      token: creds.token,
      encodingAesKey: creds.encodingAesKey,
      receiveId: corp.corpId,
      innerXml: xml,
      timestamp: String(this.nowSec()),
      agentId,
    });
    const { ok, attempts } = await deliver(creds.url, envelope, this.delivery);
    return this.record(corp, kind, creds.url, xml, ok, attempts, envelope);
  }

  /**
   * WeCom retrying a callback it already delivered: the identical signed request once more
   * (docs/wecom.md §1.6: same body, same query), as when the first answer was lost.
   */
  async redeliver(id: number): Promise<DeliveryReport> {
    const original = this.deliveries.find((d) => d.id === id);
    if (!original?.envelope || !original.url)
      throw new DriverError(`delivery ${id} was not sent anywhere, nothing to repeat`, 404);
    const { ok, attempts } = await deliver(original.url, original.envelope, { ...this.delivery, retries: 0 });
    return this.record(
      this.corp(original.corpId),
      original.kind,
      original.url,
      original.innerXml,
      ok,
      attempts,
      original.envelope,
    );
  }

  private record(
    corp: CorpWorld,
    kind: string,
    url: string,
    innerXml: string,
    ok: boolean,
    attempts: DeliveryReport['attempts'],
    envelope?: CallbackEnvelope,
  ): DeliveryReport {
    const report: DeliveryReport = {
      id: this.nextDelivery++,
      kind,
      corpId: corp.corpId,
      url,
      ok,
      attempts,
      innerXml,
      envelope,
    };
    this.deliveries.push(report);
    if (this.deliveries.length > 5000) this.deliveries.shift();
    return report;
  }

  private corp(corpId: string): CorpWorld {
    const corp = this.world.corp(corpId);
    if (!corp) throw new DriverError(`unknown corp ${corpId}`, 404);
    return corp;
  }

  private member(corp: CorpWorld, userid: string) {
    const m = findMember(corp, userid);
    if (!m) throw new DriverError(`unknown member ${userid}`, 404);
    return m;
  }

  private follow(corp: CorpWorld, userid: string, ext: string) {
    const f = findFollow(corp, userid, ext);
    if (!f || f.status === 'half') throw new DriverError(`${userid} and ${ext} are not related`, 404);
    return f;
  }

  private nowSec(): number {
    return Math.floor(this.clock.nowMs() / 1000);
  }
}
