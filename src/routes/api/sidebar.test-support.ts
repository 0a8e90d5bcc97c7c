import { customerSnapshot, relationshipSnapshot } from '../../domain/customers/contact-snapshot.js';
import { CustomerModel } from '../../domain/customers/customer.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import type { ApiHarness } from './api.test-support.js';

export interface SeedFollow {
  userid: string;
  remark?: string;
  tags?: string[];
  status?: 'active' | 'deleted_by_customer';
}

/**
 * A customer (an owner, sealed like the refresh stores them) and their relationships, for the
 * sidebar's route tests. Returns the customer's id.
 */
export async function seedSidebarCustomer(
  h: Pick<ApiHarness, 'pd' | 'clock'>,
  corpId: string,
  ext: string,
  name: string,
  follows: SeedFollow[],
  stage: 'prospect' | 'owner' | 'lost' = 'owner',
): Promise<string> {
  const snap = customerSnapshot(
    { external_userid: ext, name, type: 1 } as Parameters<typeof customerSnapshot>[0],
    h.pd,
    corpId,
  );
  const c = await CustomerModel.create({
    corpId,
    ...snap,
    responsibleUserid: follows[0]?.userid,
    lifecycle: { stage, reason: stage === 'owner' ? 'vehicle_linked' : 'added', changedAt: h.clock.now() },
  });
  for (const f of follows) {
    const rel = relationshipSnapshot(
      {
        userid: f.userid,
        remark: f.remark ?? '',
        description: '',
        remark_mobiles: [],
        createtime: h.clock.nowMs() / 1000 - 86_400,
        add_way: 1,
        tag_id: f.tags ?? [],
      } as unknown as Parameters<typeof relationshipSnapshot>[0],
      h.pd,
      { corpId, externalUserId: ext },
    );
    await RelationshipModel.create({
      corpId,
      externalUserId: ext,
      customerId: c._id,
      ...rel,
      status: f.status ?? 'active',
    });
  }
  return String(c._id);
}
