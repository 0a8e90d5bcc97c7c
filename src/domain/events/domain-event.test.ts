import { describe, expect, it } from 'vitest';
import { domainEventJobId, domainEventSchema } from './domain-event.js';

describe('domain events', () => {
  it('a replayed source gets the same job id; another discriminator another', () => {
    const event = { type: 'customer.tag_added' as const, corpId: 'ww0001', sourceId: 'inbound-abc' };
    const first = domainEventJobId({ ...event, discriminator: 'et1' });
    expect(domainEventJobId({ ...event, discriminator: 'et1' })).toBe(first);
    expect(domainEventJobId({ ...event, discriminator: 'et2' })).not.toBe(first);
    expect(first).not.toContain(':');
    expect(first).toMatch(/^customer-tag_added-/);
  });

  it('rejects events that do not fit the schema', () => {
    expect(
      domainEventSchema.safeParse({ type: 'customer.exploded', corpId: 'ww', sourceId: 's', occurredAt: 'yesterday' })
        .success,
    ).toBe(false);
    expect(domainEventJobId({ type: 'customer.added', corpId: 'a', sourceId: 'b' })).toBe(
      domainEventJobId({ type: 'customer.added', corpId: 'a', sourceId: 'b' }),
    );
  });
});
