import { UnrecoverableError } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { defineJob } from './job-contract.js';
import { QueueName } from './queue-names.js';

const exampleJob = defineJob({
  queue: QueueName.scheduled,
  name: 'example-job',
  schema: z.object({ corpId: z.string().min(1), itemId: z.string().min(1), round: z.number().int().default(0) }),
  jobId: (d) => `example-${d.corpId}-${d.itemId}-${d.round}`,
  defaults: { delay: 1000 },
});

describe('defineJob', () => {
  it('builds the bulk entry from the payload: deterministic id, defaults, schema defaults applied', () => {
    const entry = exampleJob.bulkEntry({ corpId: 'c1', itemId: 'i1' });
    expect(entry).toEqual({
      name: 'example-job',
      data: { corpId: 'c1', itemId: 'i1', round: 0 },
      opts: { delay: 1000, jobId: 'example-c1-i1-0' },
    });
    expect(exampleJob.bulkEntry({ corpId: 'c1', itemId: 'i1', round: 2 }, { delay: 5 }).opts).toEqual({
      delay: 5,
      jobId: 'example-c1-i1-2',
    });
  });

  it('refuses to produce a payload that does not match', () => {
    expect(() => exampleJob.bulkEntry({ corpId: '', itemId: 'i1' })).toThrow();
  });

  it('parses a good payload and fails a bad one as unrecoverable without echoing the data', () => {
    expect(exampleJob.parse({ name: 'example-job', data: { corpId: 'c1', itemId: 'i1', round: 1 } })).toEqual({
      corpId: 'c1',
      itemId: 'i1',
      round: 1,
    });
    let caught: unknown;
    try {
      exampleJob.parse({ name: 'example-job', data: { corpId: 'c1', itemId: 13800000000 } });
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(UnrecoverableError);
    expect((caught as Error).message).toContain('itemId');
    expect((caught as Error).message).not.toContain('13800000000');
  });

  it('lists the old names a consumer must still accept; producers write the current name', () => {
    const renamed = defineJob({
      queue: QueueName.maintenance,
      name: 'operator-alert',
      legacyNames: ['alert.send'],
      schema: z.object({ text: z.string() }),
      jobId: () => 'a-1',
    });
    expect(renamed.names).toEqual(['operator-alert', 'alert.send']);
    expect(renamed.bulkEntry({ text: 'x' }).name).toBe('operator-alert');
    expect(renamed.parse({ name: 'alert.send', data: { text: 'x' } })).toEqual({ text: 'x' });
  });

  it("names a job after its payload when asked (domain events), and needs the producer's id when it has no jobId", () => {
    const event = defineJob({
      queue: QueueName.domainEvents,
      name: 'domain-event',
      nameOf: (d) => d.type,
      schema: z.object({ type: z.string() }),
    });
    expect(event.bulkEntry({ type: 'customer.added' }, { jobId: 'evt-1' })).toEqual({
      name: 'customer.added',
      data: { type: 'customer.added' },
      opts: { jobId: 'evt-1' },
    });
    expect(() => event.bulkEntry({ type: 'customer.added' })).toThrow(/needs a job id/);
  });
});
