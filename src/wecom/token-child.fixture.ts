/**
 * Test fixture: one "bot process" for token.multiprocess.test.ts. Reads its settings from argv,
 * then answers JSON commands on stdin (one per line) with one JSON line on stdout.
 */
import { createInterface } from 'node:readline';
import { Redis } from 'ioredis';
import { SharedOffsetClock } from '../infra/clock.js';
import { createLogger } from '../infra/logger.js';
import { createWecomClient } from './client.js';

interface ChildSettings {
  apiBase: string;
  redisUrl: string;
  keyPrefix: string;
  corpId: string;
  secret: string;
}

const settings = JSON.parse(process.argv[2] ?? '{}') as ChildSettings;
const redis = new Redis(settings.redisUrl);
const clock = new SharedOffsetClock(redis, settings.keyPrefix, 60_000);
const client = createWecomClient({
  apiBase: settings.apiBase,
  redis,
  clock,
  logger: createLogger({ level: 'silent', name: 'child' }),
  keyPrefix: settings.keyPrefix,
});
const creds = { corpId: settings.corpId, secret: settings.secret };
const api = client.forCorp(creds);

const reply = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);

createInterface({ input: process.stdin }).on('line', (line) => {
  const cmd = JSON.parse(line) as
    | { op: 'calls'; n: number }
    | { op: 'tickets'; n: number; kind: 'corp' | 'agent' }
    | { op: 'refresh-clock' }
    | { op: 'exit' };
  if (cmd.op === 'exit') {
    void redis.quit().then(() => process.exit(0));
    return;
  }
  if (cmd.op === 'refresh-clock') {
    void clock.refresh().then((offset) => reply({ ok: true, offset }));
    return;
  }
  if (cmd.op === 'tickets') {
    void Promise.all(Array.from({ length: cmd.n }, () => client.jsapiTicket(creds, cmd.kind))).then(
      (tickets) => reply({ distinct: new Set(tickets).size }),
      (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
    );
    return;
  }
  void Promise.all(Array.from({ length: cmd.n }, () => api.getFollowUserList())).then(
    (results) => reply({ ok: results.length }),
    (err: unknown) => reply({ error: err instanceof Error ? err.message : String(err) }),
  );
});
reply({ ready: true });
