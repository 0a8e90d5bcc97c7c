import { WecomApiError } from '../../wecom/errors.js';
import type { GroupDeps } from './group-refresh.service.js';
import { GroupModel } from './group.model.js';

/** WeCom's group-transfer codes in words (docs/wecom.md §11.8). */
export const GROUP_TRANSFER_ERRORS: Record<number, string> = {
  0: '群主已转给接替成员',
  90500: '原群主尚未离职：请使用在职继承',
  90501: '不是客户群，或群已解散',
  90502: '原群主已离职：请使用离职继承',
  90503: '群内微信成员已满 99 人，需在客户端确认',
  90504: '群主未改变（接替成员已是群主）',
  90507: '群正在继承中，或 90 天内已转移 2 次 / 今日已达 300 个群',
  90508: '群已被继承',
  90509: '不是企业微信客户群',
  40098: '接替成员未实名认证、未激活或未开通客户联系',
};
export const explainGroupTransferError = (code: number): string =>
  GROUP_TRANSFER_ERRORS[code] ?? `企业微信错误码 ${code}`;

export interface GroupMoveResult {
  chatId: string;
  errcode: number;
  explanation: string;
}

/**
 * Moves the groups a leaving or reassigned advisor owns to the taker, with the customers
 * (docs/wecom.md §11.8): `groupchat/onjob_transfer` in service, `groupchat/transfer` after
 * resignation, 100 groups per call; WeCom answers 0 with a per-group failure list, which is kept
 * in words. Moved groups get their new owner at once; the next refetch confirms it.
 */
export async function moveGroupsWithOwner(
  deps: GroupDeps,
  input: { kind: 'in_service' | 'resigned'; from: string; to: string },
): Promise<GroupMoveResult[]> {
  const groups = await GroupModel.find(
    { corpId: deps.corpId, ownerUserid: input.from, status: 'active' },
    { chatId: 1 },
  )
    .sort({ chatId: 1 })
    .lean();
  const results: GroupMoveResult[] = [];
  for (let i = 0; i < groups.length; i += 100) {
    const chunk = groups.slice(i, i + 100).map((g) => g.chatId);
    let failed: Map<string, number>;
    try {
      const req = { chat_id_list: chunk, new_owner: input.to };
      const res =
        input.kind === 'resigned'
          ? await deps.api.groupchatResignedTransfer(req)
          : await deps.api.groupchatOnjobTransfer(req);
      failed = new Map((res.failed_chat_list ?? []).map((f) => [f.chat_id, f.errcode]));
    } catch (err) {
      if (!(err instanceof WecomApiError) || err.retryable) throw err;
      failed = new Map(chunk.map((c) => [c, err.errcode]));
    }
    for (const chatId of chunk) {
      const errcode = failed.get(chatId) ?? 0;
      results.push({ chatId, errcode, explanation: explainGroupTransferError(errcode) });
      if (errcode === 0)
        await GroupModel.updateOne({ corpId: deps.corpId, chatId }, { $set: { ownerUserid: input.to } });
    }
  }
  if (results.length)
    deps.logger.info(
      {
        corpId: deps.corpId,
        moved: results.filter((r) => r.errcode === 0).length,
        refused: results.filter((r) => r.errcode !== 0).length,
      },
      'customer groups moved with their owner',
    );
  return results;
}
