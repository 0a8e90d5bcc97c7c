import type { Redis } from 'ioredis';
import type { CustomerDeps } from './customer-deps.js';
import { leadersOf } from './advisor-directory.service.js';
import { AdvisorModel } from './advisor.model.js';
import { CustomerModel } from './customer.model.js';
import { customerCtx, relationshipCtx } from './personal-data.js';
import { RelationshipModel } from './relationship.model.js';

/** How a person is shown inside WeCom: the advisor's remark, else the customer's name. */
export async function displayNameOf(
  deps: Pick<CustomerDeps, 'corpId' | 'pd'>,
  externalUserId: string,
  userid?: string,
): Promise<string> {
  const rel = userid
    ? await RelationshipModel.findOne({ corpId: deps.corpId, userid, externalUserId }, { remarkEnc: 1 }).lean()
    : null;
  const remark = deps.pd.openFor(
    relationshipCtx({ corpId: deps.corpId, externalUserId, userid: userid ?? '' }, 'remarkEnc'),
    rel?.remarkEnc,
  );
  if (remark) return remark;
  const customer = await CustomerModel.findOne({ corpId: deps.corpId, externalUserId }, { nameEnc: 1 }).lean();
  return (
    deps.pd.openFor(customerCtx({ corpId: deps.corpId, externalUserId }, 'nameEnc'), customer?.nameEnc) ?? '一位客户'
  );
}

/**
 * Sends an app message inside WeCom once per key: the mark is written after a successful send, and
 * WeCom's own duplicate check covers a crash in between (docs/wecom.md §3.12 `enable_duplicate_check`).
 */
export async function notifyOnce(
  deps: CustomerDeps & { redis: Redis; keyPrefix: string },
  key: string,
  touser: string[],
  content: string,
): Promise<boolean> {
  const markKey = `${deps.keyPrefix}:notified:${deps.corpId}:${key}`;
  if (touser.length === 0 || (await deps.redis.exists(markKey))) return false;
  await deps.api.sendMessage({
    touser: touser.join('|'),
    msgtype: 'text',
    text: { content },
    enable_duplicate_check: 1,
    duplicate_check_interval: 1800,
  });
  await deps.redis.set(markKey, '1', 'EX', 7 * 24 * 3600);
  return true;
}

/**
 * Loss alert: the customer deleted the advisor. Tells the advisor and their leader(s),
 * naming the customer by remark or name — in WeCom, never in a log.
 */
export async function sendLossAlert(
  deps: CustomerDeps & { redis: Redis; keyPrefix: string },
  input: { userid: string; externalUserId: string; sourceId: string },
): Promise<void> {
  const who = await displayNameOf(deps, input.externalUserId, input.userid);
  const leaders = await leadersOf(deps, input.userid);
  const advisor = await AdvisorModel.findOne({ corpId: deps.corpId, userid: input.userid }, { name: 1 }).lean();
  const advisorName = advisor?.name || input.userid;
  await notifyOnce(
    deps,
    `loss-advisor-${input.sourceId}`,
    [input.userid],
    `客户流失提醒：客户「${who}」已将您从微信好友中删除。可在工作台查看该客户的跟进记录。`,
  );
  await notifyOnce(
    deps,
    `loss-leader-${input.sourceId}`,
    leaders,
    `客户流失提醒：顾问 ${advisorName} 的客户「${who}」已删除该顾问。请关注是否需要其他顾问跟进。`,
  );
}

/** `transfer_fail`: the customer stays with the original advisor; tell the leader why. */
export async function sendTransferFailedAlert(
  deps: CustomerDeps & { redis: Redis; keyPrefix: string },
  input: { takeoverUserid: string; externalUserId: string; reason: string; sourceId: string },
): Promise<void> {
  const who = await displayNameOf(deps, input.externalUserId);
  const reason =
    input.reason === 'customer_refused'
      ? '客户拒绝了转接'
      : input.reason === 'customer_limit_exceed'
        ? '接替顾问的客户数已达上限'
        : `原因：${input.reason || '未知'}`;
  const leaders = await leadersOf(deps, input.takeoverUserid);
  await notifyOnce(
    deps,
    `transfer-fail-${input.sourceId}`,
    leaders.length > 0 ? leaders : [input.takeoverUserid],
    `客户转接失败：客户「${who}」未能转给 ${input.takeoverUserid}（${reason}），仍由原顾问跟进。`,
  );
}
