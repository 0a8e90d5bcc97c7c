import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.js';
import { Shutdown } from './shutdown.js';

const silent = createLogger({ level: 'silent', name: 'test' });

describe('Shutdown', () => {
  it('runs steps once, in order, and exits 0', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = new Shutdown(silent, 1000, (code) => exits.push(code));
    shutdown
      .add('http', () => void order.push('http'))
      .add('queues', async () => void order.push('queues'))
      .add('redis', () => void order.push('redis'));
    await Promise.all([shutdown.run('SIGTERM'), shutdown.run('SIGINT')]);
    expect(order).toEqual(['http', 'queues', 'redis']);
    expect(exits).toEqual([0]);
  });

  it('keeps going after a failing step and exits 1', async () => {
    const order: string[] = [];
    const exits: number[] = [];
    const shutdown = new Shutdown(silent, 1000, (code) => exits.push(code));
    shutdown
      .add('a', () => {
        throw new Error('boom');
      })
      .add('b', () => void order.push('b'));
    await shutdown.run('SIGTERM');
    expect(order).toEqual(['b']);
    expect(exits).toEqual([1]);
  });

  it('forces an exit when a step hangs past the timeout', async () => {
    const exits: number[] = [];
    const shutdown = new Shutdown(silent, 50, (code) => exits.push(code));
    shutdown.add('hang', () => new Promise(() => undefined));
    void shutdown.run('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(exits).toEqual([1]);
  });
});

describe('logger redaction', () => {
  it('never writes secrets or personal fields', () => {
    let out = '';
    const sink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        out += chunk.toString();
        cb();
      },
    });
    const log = createLogger({ level: 'info', name: 'test', destination: sink });
    log.info(
      { corpId: 'ww1', secret: 's3cr3t-value', customer: { name: '测试甲', mobile: '13800000001' }, token: 'tok-abc' },
      'hello',
    );
    expect(out).toContain('ww1');
    for (const leaked of ['s3cr3t-value', '测试甲', '13800000001', 'tok-abc']) expect(out).not.toContain(leaked);
  });
});
