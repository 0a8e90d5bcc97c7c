import { describe, expect, it } from 'vitest';
import { EventParseError, parseEvent } from './events.js';

const head = (from = 'sys') =>
  `<ToUserName><![CDATA[ww0001]]></ToUserName><FromUserName><![CDATA[${from}]]></FromUserName><CreateTime>1735700000</CreateTime>`;
const ev = (event: string, rest = '', from = 'sys') =>
  `<xml>${head(from)}<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[${event}]]></Event>${rest}</xml>`;
const cdata = (tag: string, value: string) => `<${tag}><![CDATA[${value}]]></${tag}>`;

describe('parseEvent', () => {
  it.each([
    ['add_external_contact', { state: 'spring_qr7', welcomeCode: 'wc-1' }],
    ['add_half_external_contact', { state: 'spring_qr7', welcomeCode: 'wc-1' }],
    ['edit_external_contact', {}],
    ['del_external_contact', { source: 'DELETE_BY_TRANSFER' }],
    ['del_follow_user', {}],
    ['transfer_fail', { failReason: 'customer_refused' }],
    ['msg_audit_approved', { welcomeCode: 'wc-1' }],
  ])('reads change_external_contact %s', (changeType, extra) => {
    const fields = Object.entries(extra)
      .map(([k, v]) => cdata(k[0]?.toUpperCase() + k.slice(1), v))
      .join('');
    const e = parseEvent(
      ev(
        'change_external_contact',
        `${cdata('ChangeType', changeType)}${cdata('UserID', 'sales.alice')}${cdata('ExternalUserID', 'wmA1')}${fields}`,
      ),
    );
    expect(e).toMatchObject({
      kind: 'change_external_contact',
      key: `change_external_contact.${changeType}`,
      changeType,
      userId: 'sales.alice',
      externalUserId: 'wmA1',
      fromUserName: 'sys',
      createTime: 1735700000,
      toUserName: 'ww0001',
      ...extra,
    });
  });

  it('reads customer-group changes with the member list', () => {
    const e = parseEvent(
      ev(
        'change_external_chat',
        `${cdata('ChatId', 'wr1')}${cdata('ChangeType', 'update')}${cdata('UpdateDetail', 'add_member')}<JoinScene>3</JoinScene><QuitScene>0</QuitScene><MemChangeCnt>2</MemChangeCnt><MemChangeList><Item>wmB</Item><Item>wmC</Item></MemChangeList><LastMemVer>aa</LastMemVer><CurMemVer>bb</CurMemVer>`,
      ),
    );
    expect(e).toMatchObject({
      kind: 'change_external_chat',
      key: 'change_external_chat.update',
      chatId: 'wr1',
      updateDetail: 'add_member',
      joinScene: 3,
      quitScene: 0,
      memChangeCnt: 2,
      memChangeList: ['wmB', 'wmC'],
      lastMemVer: 'aa',
      curMemVer: 'bb',
    });
    expect(
      parseEvent(ev('change_external_chat', `${cdata('ChatId', 'wr1')}${cdata('ChangeType', 'dismiss')}`)),
    ).toMatchObject({ key: 'change_external_chat.dismiss', memChangeList: [] });
  });

  it('reads corp tag changes', () => {
    for (const changeType of ['create', 'update', 'delete', 'shuffle']) {
      expect(
        parseEvent(
          ev(
            'change_external_tag',
            `${cdata('Id', 'et1')}${cdata('TagType', 'tag')}${cdata('ChangeType', changeType)}`,
          ),
        ),
      ).toMatchObject({
        kind: 'change_external_tag',
        key: `change_external_tag.${changeType}`,
        id: 'et1',
        tagType: 'tag',
      });
    }
  });

  it('reads directory changes, keeping personal fields out of the typed ids', () => {
    const e = parseEvent(
      ev(
        'change_contact',
        `${cdata('ChangeType', 'update_user')}${cdata('UserID', 'u1')}${cdata('NewUserID', 'u2')}${cdata('Department', '1,2,3')}${cdata('Name', '张三')}<Status>5</Status>`,
      ),
    );
    expect(e).toMatchObject({
      kind: 'change_contact',
      key: 'change_contact.update_user',
      userId: 'u1',
      newUserId: 'u2',
      departments: ['1', '2', '3'],
      status: 5,
    });
    expect(e.kind === 'change_contact' && e.fields.Name).toBe('张三');
    expect(
      parseEvent(ev('change_contact', `${cdata('ChangeType', 'create_party')}<Id>7</Id><ParentId>1</ParentId>`)),
    ).toMatchObject({ key: 'change_contact.create_party', id: '7', parentId: '1' });
  });

  it('reads template card clicks with selected items', () => {
    const e = parseEvent(
      ev(
        'template_card_event',
        `${cdata('EventKey', 'done')}${cdata('TaskId', 'task-1')}${cdata('CardType', 'button_interaction')}${cdata('ResponseCode', 'rc')}<AgentID>1000002</AgentID><SelectedItems><SelectedItem>${cdata('QuestionKey', 'priority')}<OptionIds><OptionId><![CDATA[high]]></OptionId><OptionId><![CDATA[low]]></OptionId></OptionIds></SelectedItem></SelectedItems>`,
        'sales.alice',
      ),
    );
    expect(e).toMatchObject({
      kind: 'template_card_event',
      key: 'template_card_event',
      eventKey: 'done',
      taskId: 'task-1',
      cardType: 'button_interaction',
      responseCode: 'rc',
      agentId: '1000002',
      fromUserName: 'sales.alice',
      selectedItems: [{ questionKey: 'priority', optionIds: ['high', 'low'] }],
    });
    expect(parseEvent(ev('template_card_event', cdata('TaskId', 't')))).toMatchObject({ selectedItems: [] });
  });

  it('reads member messages and keeps MsgId as an exact string', () => {
    const e = parseEvent(
      `<xml>${head('sales.alice')}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[a &amp; <b>]]></Content><MsgId>7300000000000000001</MsgId><AgentID>1000002</AgentID></xml>`,
    );
    expect(e).toMatchObject({
      kind: 'message',
      key: 'message.text',
      msgId: '7300000000000000001',
      content: 'a &amp; <b>',
    });
    for (const msgType of ['image', 'voice', 'video', 'location', 'link']) {
      expect(
        parseEvent(`<xml>${head('u')}<MsgType>${msgType}</MsgType><MediaId>m1</MediaId><MsgId>1</MsgId></xml>`),
      ).toMatchObject({ kind: 'message', key: `message.${msgType}` });
    }
    expect(
      parseEvent(`<xml>${head('u')}<MsgType>text</MsgType><Content>x &lt; y &#26159;</Content><MsgId>2</MsgId></xml>`),
    ).toMatchObject({ content: 'x < y 是' });
  });

  it('reads app events', () => {
    for (const event of ['enter_agent', 'subscribe', 'unsubscribe', 'msgaudit_notify'])
      expect(parseEvent(ev(event, '<AgentID>1000002</AgentID>'))).toMatchObject({ kind: event, key: event });
    expect(parseEvent(ev('low_active_alert', '<EffectTime>1735700000</EffectTime>'))).toMatchObject({
      kind: 'app_activity',
      key: 'app_activity.low_active_alert',
      effectTime: '1735700000',
    });
  });

  it('keeps anything else as unknown with its raw fields, never an error', () => {
    expect(parseEvent(ev('brand_new_event', cdata('Foo', 'bar')))).toMatchObject({
      kind: 'unknown',
      key: 'unknown',
      event: 'brand_new_event',
      raw: expect.objectContaining({ Foo: expect.anything() }),
    });
    expect(parseEvent(ev('change_external_contact', cdata('ChangeType', 'future_change')))).toMatchObject({
      kind: 'unknown',
      changeType: 'future_change',
    });
    expect(parseEvent(`<xml>${head()}<MsgType>miniprogram</MsgType></xml>`)).toMatchObject({
      kind: 'unknown',
      msgType: 'miniprogram',
    });
  });

  it('refuses DTDs, entities and malformed XML with EventParseError', () => {
    expect(() => parseEvent('<!DOCTYPE x [<!ENTITY a "b">]><xml>&a;</xml>')).toThrow(EventParseError);
    expect(() => parseEvent('<xml><ToUserName>x</ToUserName>')).toThrow(EventParseError);
    expect(() => parseEvent('{"json":true}')).toThrow(EventParseError);
    expect(() => parseEvent('<other>1</other>')).toThrow(/no <xml> root/);
  });
});
