import { describe, expect, it } from 'vitest';
import { MicroBatcher } from './micro-batcher.js';

describe('MicroBatcher', () => {
  it('sends what was submitted in one turn as one batch and resolves each submitter after it', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => {
      batches.push(items);
    });
    await Promise.all([batcher.submit(1), batcher.submit(2), batcher.submit(3)]);
    await batcher.submit(4);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it('flushes early at maxBatch', async () => {
    const batches: number[][] = [];
    const batcher = new MicroBatcher<number>(async (items) => {
      batches.push(items);
    }, 2);
    await Promise.all([1, 2, 3, 4, 5].map((n) => batcher.submit(n)));
    expect(batches).toEqual([[1, 2], [3, 4], [5]]);
  });

  it('rejects every submitter of a failed batch (they spool), and later batches still work', async () => {
    let fail = true;
    const batcher = new MicroBatcher<number>(async () => {
      if (fail) throw new Error('redis said no');
    });
    const results = await Promise.allSettled([batcher.submit(1), batcher.submit(2)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    await expect(batcher.submit(3)).resolves.toBeUndefined();
  });

  it('turns a synchronous throw of the sender into rejections', async () => {
    const batcher = new MicroBatcher<number>(() => {
      throw new Error('sync');
    });
    await expect(batcher.submit(1)).rejects.toThrow('sync');
  });
});
