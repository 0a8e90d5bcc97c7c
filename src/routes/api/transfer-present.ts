import { z } from 'zod';
import type { TransferLean } from '../../domain/tasks/transfer.model.js';

/*
 * The transfers API's request schema and answer shape, apart from the router (and free of
 * runtime imports of the server's services) so the console can import their types.
 */

const userid = z.string().regex(/^[A-Za-z0-9._@-]{1,64}$/, { error: 'a WeCom userid' });
export const transferStartBody = z
  .object({
    corpId: z.string().min(1).max(64),
    kind: z.enum(['in_service', 'resigned'], { error: 'kind is in_service (在职继承) or resigned (离职继承)' }),
    handoverUserid: userid,
    takeoverUserid: userid,
    /** The customers to move; omitted = every active customer of the handover advisor. */
    externalUserIds: z.array(z.string().min(1).max(128)).min(1).max(1000).optional(),
    transferSuccessMsg: z.string().max(200, { error: 'WeCom allows at most 200 characters' }).optional(),
  })
  .strict();

/** A transfer as the API shows it (ids and WeCom results in words; no customer personal data). */
export function presentTransfer(
  t: Pick<
    TransferLean,
    '_id' | 'corpId' | 'kind' | 'handoverUserid' | 'takeoverUserid' | 'status' | 'customers' | 'nextPollAt'
  > & { groups?: TransferLean['groups'] },
) {
  return {
    id: String(t._id),
    corpId: t.corpId,
    kind: t.kind,
    handoverUserid: t.handoverUserid,
    takeoverUserid: t.takeoverUserid,
    status: t.status,
    nextPollAt: t.nextPollAt ?? undefined,
    customers: t.customers.map((c) => ({
      externalUserId: c.externalUserId,
      customerId: c.customerId ? String(c.customerId) : undefined,
      startErrcode: c.startErrcode,
      explanation: c.explanation,
      result: c.result,
      takeoverAt: c.takeoverAt ?? undefined,
      appliedAt: c.appliedAt ?? undefined,
    })),
    groups: (t.groups ?? []).map((g) => ({ chatId: g.chatId, errcode: g.errcode, explanation: g.explanation })),
  };
}
export type ApiTransfer = ReturnType<typeof presentTransfer>;
