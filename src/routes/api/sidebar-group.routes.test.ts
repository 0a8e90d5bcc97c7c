import { Types } from 'mongoose';
import request from 'supertest';
import { beforeAll, describe, expect, it } from 'vitest';
import { AuditEntryModel } from '../../domain/audit/audit-entry.model.js';
import { AdvisorModel } from '../../domain/customers/advisor.model.js';
import { GroupModel } from '../../domain/groups/group.model.js';
import { TaskModel } from '../../domain/tasks/task.model.js';
import { VehicleModel } from '../../domain/vehicles/vehicle.model.js';
import { bearer, CORP_A, useApiHarness } from './api.test-support.js';
import { seedSidebarCustomer } from './sidebar.test-support.js';

const h = useApiHarness('sidebar-group-api');
const api = () => request(h.app.callback());
const CHAT = 'wrOwnersGroup0001';
const HOUR = 3_600_000;

beforeAll(async () => {
  await AdvisorModel.create([
    { corpId: CORP_A, userid: 'zhangwei', name: '张伟', departments: [2] },
    { corpId: CORP_A, userid: 'chenjing', name: '陈静', departments: [3] },
    { corpId: CORP_A, userid: 'liuyang', name: '刘洋', departments: [3] },
  ]);
  const zhou = await seedSidebarCustomer(h, CORP_A, 'wmZhouGroup000001', '周先生', [
    { userid: 'zhangwei', remark: '周哥' },
  ]);
  const wu = await seedSidebarCustomer(h, CORP_A, 'wmWuGroup00000001', '吴女士', [{ userid: 'chenjing' }], 'prospect');
  await VehicleModel.create({
    corpId: CORP_A,
    vin: 'LVSHCAME0PE100099',
    model: '星途瑶光',
    customerId: new Types.ObjectId(zhou),
    source: 'api',
    deliveryDate: new Date('2026-01-10T00:00:00Z'),
  });
  await TaskModel.create({
    corpId: CORP_A,
    customerId: new Types.ObjectId(zhou),
    advisorUserid: 'zhangwei',
    title: '首保邀约',
    dueAt: new Date(h.clock.nowMs() - HOUR),
    slaMs: 24 * HOUR,
    remindAt: new Date(h.clock.nowMs() - HOUR),
    ladder: { escalateAfterMs: 48 * HOUR, flagAfterMs: 72 * HOUR },
  });
  const joined = { joinedAt: h.clock.now(), joinScene: 'qr' };
  await GroupModel.create({
    corpId: CORP_A,
    chatId: CHAT,
    name: '瑶光车主群',
    ownerUserid: 'zhangwei',
    admins: ['chenjing'],
    members: [
      { memberId: 'zhangwei', type: 'staff', ...joined },
      { memberId: 'chenjing', type: 'staff', ...joined },
      { memberId: 'wmZhouGroup000001', type: 'customer', customerId: new Types.ObjectId(zhou), ...joined },
      { memberId: 'wmWuGroup00000001', type: 'customer', customerId: new Types.ObjectId(wu), ...joined },
      { memberId: 'wmStranger0000001', type: 'customer', ...joined },
    ],
    memberCount: 5,
    customerCount: 3,
    fetchedAt: h.clock.now(),
  });
});

const open = async (userid: string, chatId = CHAT) =>
  api()
    .get('/api/v1/sidebar/group')
    .query({ chatId })
    .set(bearer(await h.token('advisor', [CORP_A], userid)));

describe('sidebar group view', () => {
  it("shows the owner the group, its owner and counts, and the dealer's customers in it with vehicles and due follow-ups; audited", async () => {
    const res = await open('zhangwei');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      name: '瑶光车主群',
      owner: { userid: 'zhangwei', name: '张伟' },
      memberCount: 5,
      customerCount: 3,
      role: 'owner',
    });
    expect(res.body.customers).toHaveLength(2);
    const zhou = res.body.customers.find((c: { displayName: string }) => c.displayName === '周哥');
    expect(zhou).toMatchObject({ stage: 'owner', openTasks: 1, nextDue: { title: '首保邀约', overdue: true } });
    expect(zhou.vehicles[0]).toMatchObject({ model: '星途瑶光' });
    expect(res.body.customers.map((c: { displayName: string }) => c.displayName)).toContain('吴女士');
    expect(await AuditEntryModel.countDocuments({ action: 'sidebar.read', 'target.id': CHAT })).toBe(1);
  });

  it('an admin of the group sees it too', async () => {
    const res = await open('chenjing');
    expect(res.status).toBe(200);
    expect(res.body.role).toBe('admin');
  });

  it('refuses a member who is not in the group, and an unknown chat; both audited', async () => {
    const refused = await open('liuyang');
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('not_your_group');
    const unknown = await open('zhangwei', 'wrUnknownGroup001');
    expect(unknown.status).toBe(404);
    expect(await AuditEntryModel.countDocuments({ action: 'sidebar.refused', 'target.type': 'group' })).toBe(2);
    const bad = await open('zhangwei', 'not a chat id!');
    expect(bad.status).toBe(422);
  });
});
