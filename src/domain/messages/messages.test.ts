import { Types } from 'mongoose';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../infra/errors.js';
import { QueueName } from '../../queues/queue-names.js';
import { CustomerModel } from '../customers/customer.model.js';
import { type EngineHarness, useEngineHarness } from '../rules/engine/engine.test-support.js';
import { createMediaAsset } from './media-assets.js';
import { assertAssetsInScope, assetUsableIn } from './media-scope.js';
import { MessageBatchModel, MessageRecipientModel } from './message.model.js';
import { messageBatchJob } from '../../queues/jobs/messages.jobs.js';
import { flushBatch, queueCustomerMessage, type QueueMessageInput } from './message.service.js';

/**
 * The message service and media scope directly (docs/architecture.md §11: advisor-confirmed
 * sends, never re-sent when uncertain), against real Redis, the dev MongoDB server and the
 * WeCom sandbox.
 */
let h: EngineHarness;
useEngineHarness('messages', (harness) => (h = harness));

let seq = 0;
function message(over: Partial<QueueMessageInput> = {}): QueueMessageInput {
  seq += 1;
  return {
    customerId: new Types.ObjectId().toHexString(),
    externalUserId: `wmExt${seq}`,
    sender: 'zhangwei',
    monthKey: '2026-05',
    ruleId: new Types.ObjectId().toHexString(),
    ruleVersion: 1,
    occurrenceId: `occ-${seq}`,
    executionId: `exec-${seq}`,
    actionIndex: 0,
    content: { text: '您好，首保时间快到了', attachments: [] },
    ...over,
  };
}

describe('customer message batching', () => {
  it('gathers messages of one advisor and content into one batch with one flush job', async () => {
    const a = await queueCustomerMessage(h.deps, message({ sender: 'lina' }));
    const b = await queueCustomerMessage(h.deps, message({ sender: 'lina' }));
    expect(b.batchId).toBe(a.batchId);
    expect(await MessageRecipientModel.countDocuments({ batchId: new Types.ObjectId(a.batchId) })).toBe(2);
    const job = await h.deps.queues.get(QueueName.scheduled).getJob(`msgbatch-${a.batchId}`);
    expect(job?.name).toBe(messageBatchJob.name);
    expect(job?.data).toEqual({ batchId: a.batchId, corpId: h.deps.corpId });
  });

  it('keeps other content and other advisors in their own batches', async () => {
    const a = await queueCustomerMessage(h.deps, message({ sender: 'chenjing' }));
    const otherText = await queueCustomerMessage(
      h.deps,
      message({ sender: 'chenjing', content: { text: '另一条', attachments: [] } }),
    );
    const otherAdvisor = await queueCustomerMessage(h.deps, message({ sender: 'wangqiang' }));
    expect(new Set([a.batchId, otherText.batchId, otherAdvisor.batchId]).size).toBe(3);
  });

  it('queues the same (rule, customer, occurrence, action) once', async () => {
    const input = message({ sender: 'zhaolei' });
    const first = await queueCustomerMessage(h.deps, input);
    const again = await queueCustomerMessage(h.deps, { ...input, executionId: 'exec-retry' });
    expect(again.batchId).toBe(first.batchId);
    expect(await MessageRecipientModel.countDocuments({ batchId: new Types.ObjectId(first.batchId) })).toBe(1);
  });

  it('a message fired after its batch was claimed joins a fresh batch', async () => {
    const first = await queueCustomerMessage(h.deps, message({ sender: 'sunli' }));
    await MessageBatchModel.updateOne({ _id: new Types.ObjectId(first.batchId) }, { $set: { status: 'sending' } });
    const late = await queueCustomerMessage(h.deps, message({ sender: 'sunli' }));
    expect(late.batchId).not.toBe(first.batchId);
  });
});

describe('flushing a batch', () => {
  it('drops recipients who opted out; a batch with nobody left is cancelled, not sent', async () => {
    const input = message({ sender: 'zhouyu' });
    await CustomerModel.collection.insertOne({
      _id: new Types.ObjectId(input.customerId),
      corpId: h.deps.corpId,
      externalUserId: input.externalUserId,
      optOut: { value: true },
    });
    const { batchId } = await queueCustomerMessage(h.deps, input);
    await expect(flushBatch(h.deps, batchId)).resolves.toEqual({ status: 'cancelled', recipients: 0 });
    expect((await MessageRecipientModel.findOne({ batchId: new Types.ObjectId(batchId) }).lean())?.status).toBe(
      'cancelled',
    );
  });

  it('marks a batch interrupted mid-send uncertain and never sends it again', async () => {
    const { batchId } = await queueCustomerMessage(h.deps, message({ sender: 'wuhao' }));
    await MessageBatchModel.updateOne({ _id: new Types.ObjectId(batchId) }, { $set: { status: 'sending' } });
    const out = await flushBatch(h.deps, batchId);
    expect(out.recipients).toBe(0);
    expect((await MessageBatchModel.findById(batchId).lean())?.status).toBe('uncertain');
    expect(await MessageRecipientModel.findOne({ batchId: new Types.ObjectId(batchId) }).lean()).toMatchObject({
      status: 'failed',
      reason: 'uncertain',
    });
    // A second flush (a retried job) changes nothing and sends nothing.
    await expect(flushBatch(h.deps, batchId)).resolves.toEqual({ status: 'uncertain', recipients: 0 });
  });
});

describe('media scope', () => {
  it('lets a corp use its own and all-corp images, never another corp’s', () => {
    expect(assetUsableIn('all', 'wwA')).toBe(true);
    expect(assetUsableIn('wwA', 'wwA')).toBe(true);
    expect(assetUsableIn('wwB', 'wwA')).toBe(false);
    expect(assetUsableIn('wwA', 'all')).toBe(false);
  });

  it('refuses a rule naming another corp’s image as if it were missing (422)', async () => {
    const png = Buffer.from('89504e470d0a1a0a', 'hex');
    const mine = await createMediaAsset({ filename: 'a.png', contentType: 'image/png', data: png, scope: 'wwA' });
    const theirs = await createMediaAsset({ filename: 'b.png', contentType: 'image/png', data: png, scope: 'wwB' });
    await expect(
      assertAssetsInScope({ scope: 'wwA', actions: [{ attachments: [{ assetId: mine.id }] }] } as { scope: string }),
    ).resolves.toBeUndefined();
    const refused = assertAssetsInScope({ scope: 'wwA', actions: [{ attachments: [{ assetId: theirs.id }] }] } as {
      scope: string;
    });
    await expect(refused).rejects.toBeInstanceOf(ValidationError);
    await expect(
      assertAssetsInScope({ scope: 'wwA', x: { picAssetId: new Types.ObjectId().toHexString() } } as { scope: string }),
    ).rejects.toThrow(ValidationError);
  });
});
