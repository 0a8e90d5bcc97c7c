/**
 * Broadcast sends are touches (docs/outcomes.md, "Touches"): a broadcast with a holdout share goes
 * through the WeCom sandbox, the advisor confirms, the progress poll records who received it; a
 * repair order after that is credited to the broadcast (per customer and in the corp-wide
 * recompute), the held-out customer and a customer sent nothing are organic, and the broadcast's
 * report compares treated with held-out customers.
 */
import { Types } from 'mongoose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dayjs } from '../../infra/clock.js';
import { CustomerModel } from '../customers/customer.model.js';
import { startCustomerHarness, type CustomerHarness } from '../customers/customer.test-support.js';
import { reconcileCorp } from '../customers/reconcile.service.js';
import { MessageRecipientModel } from '../messages/message.model.js';
import { AttributionModel } from '../outcomes/attribution.model.js';
import { attributeOutcomes, recomputeAttributions, type AttributableOutcome } from '../outcomes/attribution.service.js';
import { broadcastReport } from '../outcomes/campaign-report.js';
import { OutcomeModel } from '../outcomes/outcome.model.js';
import { createBroadcast, decideBroadcast } from './broadcast-approval.js';
import { pollBroadcast, sendBroadcast, type BroadcastDeps } from './broadcast.service.js';

let h: CustomerHarness;
let corpId: string;
let deps: BroadcastDeps;
const ext = (i: number) => `wmBcTouch${String(i).padStart(23, '0')}`;
const CUSTOMERS = 16;

beforeAll(async () => {
  h = await startCustomerHarness('broadcast-attribution');
  [corpId] = h.sandbox.world.seed({
    corps: [
      {
        departments: [
          { id: 1, name: 'Root' },
          { id: 2, name: '售后一部', parentid: 1 },
        ],
        members: [
          { userid: 'manager1', name: '王经理', department: [2], isLeaderInDept: [1] },
          { userid: 'zhangwei', name: '张伟', department: [2] },
        ],
        customers: Array.from({ length: CUSTOMERS }, (_, i) => ({
          external_userid: ext(i),
          name: `客户${i}`,
          follows: [{ userid: 'zhangwei' }],
        })),
      },
    ],
  }).corpIds as [string];
  const base = h.depsFor(corpId);
  await reconcileCorp(base, { runId: 'seed' });
  deps = {
    corpId,
    api: base.api,
    clock: h.clock,
    logger: base.logger,
    timeZone: 'Asia/Shanghai',
    quietHours: { start: '21:00', end: '08:00' },
    publicBaseUrl: 'http://console.test',
    tasks: h.taskDepsFor(corpId),
  };
});
afterAll(async () => {
  await h?.close();
});

let seq = 0;
async function repairOrder(customerId: Types.ObjectId, occurredAt: Date) {
  seq++;
  return OutcomeModel.create({
    corpId,
    source: 'dms',
    externalId: `RO-BC-${seq}`,
    version: 1,
    orderKey: `000000000001.${seq}`,
    type: 'repair_order',
    status: 'active',
    occurredAt,
    customerId,
    matchedBy: 'vin',
    roType: 'maintenance',
    revenue: 500,
    receivedVia: 'api',
    receivedAt: occurredAt,
  });
}

describe('a broadcast with a holdout share', () => {
  it('credits the repair order of a customer who received it, not of the held-out one or one sent nothing', async () => {
    // One customer opted out: the broadcast sends them nothing.
    await CustomerModel.updateOne(
      { corpId, externalUserId: ext(0) },
      { $set: { optOut: { value: true, at: new Date(), source: 'test' } } },
    );
    // 10:00 in Shanghai, outside quiet hours.
    h.clock.set(dayjs.tz('2026-05-05 10:00', 'Asia/Shanghai').valueOf());
    const id = await createBroadcast(
      corpId,
      {
        name: '五一保养节',
        audience: { kind: 'segment', conditions: {} },
        content: { text: '保养节：工时 8 折', attachments: [] },
        scheduledAt: h.clock.now(),
        holdoutPercent: 50,
      },
      'user:mkt',
    );
    expect(await decideBroadcast(corpId, id, 'approve', 'user:manager1', h.clock.now())).toBe(true);
    expect(await sendBroadcast(deps, id)).toMatchObject({ status: 'sent' });
    const task = h.sandbox.world.corp(corpId)?.massTasks.at(-1);
    h.clock.set(dayjs.tz('2026-05-05 11:30', 'Asia/Shanghai').valueOf());
    await h.sandbox.driver.confirmMassSend({ corpId, msgid: task?.msgid ?? '', userid: 'zhangwei' });
    await pollBroadcast(deps, id);

    const rows = await MessageRecipientModel.find({ corpId, broadcastId: new Types.ObjectId(id) }).lean();
    const sent = rows.filter((r) => r.status === 'sent');
    const heldOut = rows.filter((r) => r.reason === 'holdout');
    // Sixteen customers at 50 %: both groups are populated (a 2 in 65,536 chance otherwise).
    expect(sent.length).toBeGreaterThan(0);
    expect(heldOut.length).toBeGreaterThan(0);
    expect(sent.length + heldOut.length).toBe(CUSTOMERS - 1);
    // Held-out customers are never recorded as sent, and every send has a time.
    expect(heldOut.every((r) => r.status === 'cancelled' && !r.sentAt)).toBe(true);
    expect(sent.every((r) => r.sentAt instanceof Date)).toBe(true);

    const optedOut = (await CustomerModel.findOne({ corpId, externalUserId: ext(0) }).lean())?._id as Types.ObjectId;
    const receiver = sent[0]?.customerId as Types.ObjectId;
    const held = heldOut[0]?.customerId as Types.ObjectId;
    const roAt = dayjs.tz('2026-05-12 15:00', 'Asia/Shanghai').toDate();
    const outcomes = await Promise.all([receiver, held, optedOut].map((c) => repairOrder(c, roAt)));
    const [oReceiver, oHeld, oOptedOut] = outcomes.map((o) => String(o._id));

    const expectCredits = async () => {
      const records = await AttributionModel.find({ corpId }).lean();
      const of = (outcomeId: string | undefined) => records.find((r) => String(r.outcomeId) === outcomeId);
      expect(of(oReceiver)).toMatchObject({
        organic: false,
        touch: { kind: 'broadcast', advisorUserid: 'zhangwei', refId: String(sent[0]?._id) },
      });
      expect(String(of(oReceiver)?.touch?.broadcastId)).toBe(id);
      expect(of(oReceiver)?.touch?.at.getTime()).toBe(sent[0]?.sentAt?.getTime());
      expect(of(oHeld)).toMatchObject({ organic: true, touches: 0 });
      expect(of(oOptedOut)).toMatchObject({ organic: true, touches: 0 });
    };
    // The per-customer path (an outcome arriving) ...
    await attributeOutcomes(
      { corpId, now: () => h.clock.now() },
      outcomes.map((o) => o.toObject()) as AttributableOutcome[],
    );
    await expectCredits();
    // ... and the corp-wide recompute of a period agree.
    await AttributionModel.deleteMany({ corpId });
    expect(
      await recomputeAttributions(
        { corpId, now: () => h.clock.now() },
        dayjs.tz('2026-05-01', 'Asia/Shanghai').toDate(),
        dayjs.tz('2026-06-01', 'Asia/Shanghai').toDate(),
      ),
    ).toBe(3);
    await expectCredits();

    // The broadcast's report: one of the treated and one of the held out came back.
    const report = await broadcastReport(corpId, id);
    expect(report).toMatchObject({
      broadcastId: id,
      treated: { customers: sent.length, withOutcome: 1 },
      heldOut: { customers: heldOut.length, withOutcome: 1 },
    });
    expect(report.verdict).not.toBe('no_control_group');
  }, 60_000);
});
