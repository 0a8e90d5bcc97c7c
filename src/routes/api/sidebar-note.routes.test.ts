import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { RelationshipModel } from '../../domain/customers/relationship.model.js';
import { bearer, CORP_A, useApiHarness } from './api.test-support.js';
import { seedSidebarCustomer } from './sidebar.test-support.js';

const h = useApiHarness('sidebar-note-api');
const api = () => request(h.app.callback());
const EXT = 'wmLiNote000000001';
const NOTE = '李先生周末才方便接电话，想换七座车';
let li: string;
let zhangwei: string;

beforeAll(async () => {
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'wangqiang', name: '王强', departments: [2], leadsDepartments: [2] },
    { corpId: CORP_A, userid: 'zhangwei', name: '张伟', departments: [2] },
    { corpId: CORP_A, userid: 'chenjing', name: '陈静', departments: [3] },
  ]);
  li = await seedSidebarCustomer(h, CORP_A, EXT, '李先生', [{ userid: 'zhangwei', remark: '李哥' }]);
  zhangwei = await h.token('advisor', [CORP_A], 'zhangwei');
});

const put = (token: string, note: string) =>
  api().put('/api/v1/sidebar/note').set(bearer(token)).send({ externalUserid: EXT, note });

describe("the advisor's note", () => {
  it('is written by the advisor who follows the customer, sealed at rest, shown in the sidebar; audited without the text', async () => {
    const res = await put(zhangwei, NOTE);
    expect(res.status).toBe(200);
    expect(res.body.note).toMatchObject({ text: NOTE, userid: 'zhangwei', editable: true });
    const rel = await RelationshipModel.findOne({ corpId: CORP_A, externalUserId: EXT, userid: 'zhangwei' }).lean();
    expect(rel?.noteEnc).toBeTruthy();
    expect(JSON.stringify(rel)).not.toContain('七座');
    const view = await api().get('/api/v1/sidebar/customer').query({ externalUserid: EXT }).set(bearer(zhangwei));
    expect(view.body.customer.note).toMatchObject({ text: NOTE, editable: true });
    const audits = await AuditEntryModel.find({ action: 'sidebar.note', 'target.id': li }).lean();
    expect(audits).toHaveLength(1);
    expect(JSON.stringify(audits)).not.toContain('七座');
  });

  it("a manager reads the team's note but may not write it; another advisor gets neither; the reads are audited", async () => {
    const manager = await h.token('manager', [CORP_A], 'wangqiang');
    const before = await AuditEntryModel.countDocuments({ action: 'sidebar.read', 'target.id': li });
    const read = await api().get('/api/v1/sidebar/note').query({ externalUserid: EXT }).set(bearer(manager));
    expect(read.status).toBe(200);
    expect(read.body.note).toMatchObject({ text: NOTE, userid: 'zhangwei', editable: false });
    expect(await AuditEntryModel.countDocuments({ action: 'sidebar.read', 'target.id': li })).toBe(before + 1);
    const write = await put(manager, '改一下');
    expect(write.status).toBe(403);
    expect(write.body.error.code).toBe('note_not_yours');
    const other = await h.token('advisor', [CORP_A], 'chenjing');
    expect((await api().get('/api/v1/sidebar/note').query({ externalUserid: EXT }).set(bearer(other))).status).toBe(
      403,
    );
    expect((await put(other, 'x')).status).toBe(403);
  });

  it('refuses an over-long note with the limit, and clears with an empty one', async () => {
    const long = await put(zhangwei, '字'.repeat(1001));
    expect(long.status).toBe(422);
    expect(JSON.stringify(long.body)).toContain('1000');
    const cleared = await put(zhangwei, '  ');
    expect(cleared.status).toBe(200);
    expect(cleared.body.note.text).toBeUndefined();
    const rel = await RelationshipModel.findOne({ corpId: CORP_A, externalUserId: EXT, userid: 'zhangwei' }).lean();
    expect(rel?.noteEnc).toBeUndefined();
  });

  it('is in the export, opened, and gone after erasure', async () => {
    expect((await put(zhangwei, NOTE)).status).toBe(200);
    const admin = await h.token('dealer_admin', [CORP_A]);
    const exported = await api().get(`/api/v1/customers/${li}/export`).set(bearer(admin));
    expect(exported.status).toBe(200);
    expect(exported.body.collections.relationships[0]).toMatchObject({ note: NOTE });
    const erased = await api()
      .delete(`/api/v1/customers/${li}`)
      .set(bearer(admin))
      .send({ reason: 'customer_request', ticket: 'REQ-2026-0077' });
    expect(erased.status).toBe(200);
    const rel = await RelationshipModel.findOne({ corpId: CORP_A, customerId: li }).lean();
    expect(rel?.noteEnc).toBeUndefined();
    expect(rel?.noteUpdatedAt).toBeUndefined();
  });
});
