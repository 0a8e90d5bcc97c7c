import { z } from 'zod';
import { ApiFault, parseBody } from '../server/api-fault.js';
import type { ApiRoutes, SandboxContext } from '../server/context.js';
import type { CorpWorld, Transfer } from '../world/model.js';
import { findFollow, findMember } from '../world/world.js';
import { DAY_MS, pageOf, visibleMember } from './helpers.js';

const startSchema = z.object({
  handover_userid: z.string().min(1),
  takeover_userid: z.string().min(1),
  external_userid: z.array(z.string()).min(1).max(100),
  transfer_success_msg: z.string().max(200).optional(),
});
const resultSchema = z.object({
  handover_userid: z.string().min(1),
  takeover_userid: z.string().min(1),
  cursor: z.string().optional(),
});
const unassignedSchema = z.object({
  cursor: z.string().optional(),
  page_size: z.number().int().min(1).max(1000).default(1000),
});

/** Applies due takeovers (24 h after the start, sandbox clock): the follow moves to the taker. */
export function settleTransfers(corp: CorpWorld, sb: SandboxContext): void {
  const now = sb.clock.nowMs();
  for (const t of corp.transfers) {
    if (t.status !== 2 || now < t.takeoverAtMs) continue;
    t.status = 1;
    const from = findFollow(corp, t.handover_userid, t.external_userid);
    if (from && !findFollow(corp, t.takeover_userid, t.external_userid)) {
      corp.follows.push({
        ...from,
        userid: t.takeover_userid,
        add_way: 202,
        oper_userid: t.handover_userid,
        createtime: Math.floor(now / 1000),
        status: 'active',
      });
    }
    corp.follows = corp.follows.filter((f) => f !== from);
  }
}

function start(kind: Transfer['kind']) {
  return ({ corp, body, sb }: { corp: CorpWorld; body: unknown; sb: SandboxContext }) => {
    const req = parseBody(startSchema, body);
    settleTransfers(corp, sb);
    const handover = findMember(corp, req.handover_userid);
    if (!handover) throw new ApiFault(40003, 'invalid userid');
    const taker = visibleMember(corp, req.takeover_userid);
    if (handover.userid === taker.userid) throw new ApiFault(40130, 'handover and takeover are the same');
    if (kind === 'resigned' && handover.status !== 5) throw new ApiFault(40097, 'member has not left');
    if (kind === 'in_service' && handover.status === 5)
      throw new ApiFault(40003, 'member has left: use resigned transfer');
    const now = sb.clock.nowMs();
    const customer = req.external_userid.map((ext) => {
      if (!corp.customers.some((c) => c.external_userid === ext)) return { external_userid: ext, errcode: 40096 };
      if (!findFollow(corp, handover.userid, ext)) return { external_userid: ext, errcode: 40131 };
      const mine = corp.transfers.filter((t) => t.external_userid === ext);
      if (mine.some((t) => t.status === 2)) return { external_userid: ext, errcode: 40129 };
      if (
        kind === 'in_service' &&
        mine.filter((t) => t.kind === 'in_service' && now - t.startedAtMs < 90 * DAY_MS).length >= 2
      )
        return { external_userid: ext, errcode: 40128 };
      corp.transfers.push({
        kind,
        handover_userid: handover.userid,
        takeover_userid: taker.userid,
        external_userid: ext,
        startedAtMs: now,
        takeoverAtMs: now + DAY_MS,
        status: 2,
      });
      return { external_userid: ext, errcode: 0 };
    });
    return { customer };
  };
}

function result(kind: Transfer['kind']) {
  return ({ corp, body, sb }: { corp: CorpWorld; body: unknown; sb: SandboxContext }) => {
    const req = parseBody(resultSchema, body);
    settleTransfers(corp, sb);
    const rows = corp.transfers
      .filter(
        (t) =>
          t.kind === kind && t.handover_userid === req.handover_userid && t.takeover_userid === req.takeover_userid,
      )
      .map((t) => ({
        external_userid: t.external_userid,
        status: t.status,
        takeover_time: Math.floor(t.takeoverAtMs / 1000),
      }));
    const { page, next } = pageOf(rows, req.cursor, 1000);
    return { customer: page, next_cursor: next };
  };
}

/** In-service and resigned transfers (docs/wecom.md §3.15–§3.17). */
export const transferRoutes: ApiRoutes = {
  'externalcontact/transfer_customer': { method: 'POST', handler: start('in_service') },
  'externalcontact/transfer_result': { method: 'POST', handler: result('in_service') },
  'externalcontact/resigned/transfer_customer': { method: 'POST', handler: start('resigned') },
  'externalcontact/resigned/transfer_result': { method: 'POST', handler: result('resigned') },
  'externalcontact/get_unassigned_list': {
    method: 'POST',
    handler: ({ corp, body, sb }) => {
      const req = parseBody(unassignedSchema, body);
      settleTransfers(corp, sb);
      const rows = corp.follows
        .filter(
          (f) =>
            findMember(corp, f.userid)?.status === 5 &&
            !corp.transfers.some(
              (t) => t.external_userid === f.external_userid && t.handover_userid === f.userid && t.status === 2,
            ),
        )
        .map((f) => ({
          handover_userid: f.userid,
          external_userid: f.external_userid,
          dimission_time: findMember(corp, f.userid)?.dimissionTime ?? 0,
        }));
      const { page, next } = pageOf(rows, req.cursor, req.page_size);
      return { info: page, is_last: next === '', next_cursor: next };
    },
  },
};
