import { describe, expect, it } from 'vitest';
import { forgetJobReads, jobRead, rememberJobRead, withJobReads } from './job-reads.js';

/** A stand-in for a mongoose query: a thenable that refuses to run twice, as `Query` does. */
function query<T>(value: T, runs: { n: number }): PromiseLike<T> {
  let done = false;
  return {
    then(onFulfilled, onRejected) {
      if (done) return Promise.reject(new Error('Query was already executed')).then(onFulfilled, onRejected);
      done = true;
      runs.n++;
      return Promise.resolve(value).then(onFulfilled, onRejected);
    },
  };
}

describe('job reads', () => {
  it('inside a job a query runs once and every consumer gets its rows (regression: the kept query ran again and failed)', async () => {
    const runs = { n: 0 };
    const rows = await withJobReads(async () => {
      const first = await jobRead('k', () => query(['a'], runs));
      const second = await jobRead('k', () => query(['b'], runs));
      return [first, second];
    });
    expect(rows).toEqual([['a'], ['a']]);
    expect(runs.n).toBe(1);
  });

  it('a write forgets the kept rows; a writer can hand back the rows as they are after it', async () => {
    const runs = { n: 0 };
    const seen = await withJobReads(async () => {
      await jobRead('k', () => query(['a'], runs));
      forgetJobReads();
      const afterWrite = await jobRead('k', () => query(['b'], runs));
      rememberJobRead('k', ['c']);
      const remembered = await jobRead('k', () => query(['d'], runs));
      return [afterWrite, remembered];
    });
    expect(seen).toEqual([['b'], ['c']]);
    expect(runs.n).toBe(2);
  });

  it("a write to one collection forgets only that collection's rows", async () => {
    const runs = { n: 0 };
    await withJobReads(async () => {
      await jobRead('vehicles/c1', () => query(['v'], runs));
      await jobRead('relationships/c1', () => query(['r'], runs));
      forgetJobReads('relationships/');
      await jobRead('vehicles/c1', () => query(['v2'], runs));
      await jobRead('relationships/c1', () => query(['r2'], runs));
    });
    expect(runs.n).toBe(3);
  });

  it('outside a job every read runs; a failed read is not kept', async () => {
    const runs = { n: 0 };
    await jobRead('k', () => query(1, runs));
    await jobRead('k', () => query(1, runs));
    expect(runs.n).toBe(2);
    const again = await withJobReads(async () => {
      await expect(jobRead('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
      return jobRead('k', () => query(2, runs));
    });
    expect(again).toBe(2);
  });
});
