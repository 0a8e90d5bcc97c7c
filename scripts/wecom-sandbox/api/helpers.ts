import { ApiFault } from '../server/api-fault.js';
import type { CorpWorld, Customer, Follow, Member } from '../world/model.js';
import { findCustomer, findFollow, findMember } from '../world/world.js';

/** A member inside the app's visible range: 60111 unknown, 60011 outside (docs/wecom.md §3.14, §4). */
export function visibleMember(corp: CorpWorld, userid: string | undefined): Member {
  const member = userid ? findMember(corp, userid) : undefined;
  if (!member) throw new ApiFault(60111, `userid not found: ${userid ?? ''}`);
  if (!member.visible) throw new ApiFault(60011, 'no privilege to access/modify contact/party/agent');
  return member;
}

/** 40096 for an unknown external_userid (docs/wecom.md §4). */
export function knownCustomer(corp: CorpWorld, externalUserId: string | undefined): Customer {
  const customer = externalUserId ? findCustomer(corp, externalUserId) : undefined;
  if (!customer) throw new ApiFault(40096, 'invalid external userid');
  return customer;
}

/**
 * The relationship a customer-contact API needs: 84061 when the member deleted the customer or a
 * half-add was never confirmed; a customer-deleted (one-way) relationship still works (docs/wecom.md §4).
 */
export function relationship(corp: CorpWorld, userid: string, externalUserId: string): Follow {
  visibleMember(corp, userid);
  knownCustomer(corp, externalUserId);
  const follow = findFollow(corp, userid, externalUserId);
  if (!follow || follow.status === 'half') throw new ApiFault(84061, 'not external contact');
  return follow;
}

/** Followers an app may see: active or one-way, inside the visible range. */
export function visibleFollows(corp: CorpWorld, predicate: (f: Follow) => boolean): Follow[] {
  return corp.follows.filter(
    (f) => f.status !== 'half' && predicate(f) && (findMember(corp, f.userid)?.visible ?? false),
  );
}

/** Opaque offset cursors. */
export function encodeCursor(offset: number): string {
  return Buffer.from(`o:${offset}`).toString('base64url');
}

export function decodeCursor(cursor: string | undefined): number {
  if (!cursor) return 0;
  const match = /^o:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) throw new ApiFault(40058, 'invalid cursor');
  return Number(match[1]);
}

export function pageOf<T>(items: T[], cursor: string | undefined, limit: number): { page: T[]; next: string } {
  const offset = decodeCursor(cursor);
  const page = items.slice(offset, offset + limit);
  return { page, next: offset + limit < items.length ? encodeCursor(offset + limit) : '' };
}

export function customerView(c: Customer): Record<string, unknown> {
  return {
    external_userid: c.external_userid,
    name: c.name,
    type: c.type,
    gender: c.gender,
    ...(c.unionid ? { unionid: c.unionid } : {}),
  };
}

export const DAY_MS = 86_400_000;
