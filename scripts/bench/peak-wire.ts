import { createServer, connect, type AddressInfo, type Server, type Socket } from 'node:net';

/**
 * A TCP relay in front of the dev MongoDB server that counts the commands the bot's processes send
 * (docs/scale.md §4, "The 10:00 peak, measured"): each OP_MSG from a client is one command, named by
 * its first key and, where that key's value is a string, the collection (`find tasks`,
 * `insert tasks`, `update schedules` …). Replies pass through untouched.
 */
export interface WireCounter {
  uri: string;
  /** Commands by `name collection` since the start (a copy). */
  counts(): Record<string, number>;
  stop(): Promise<void>;
}

const OP_MSG = 2013;

/** The command of one OP_MSG (`find tasks`), or undefined when the message is not a plain body. */
export function commandOf(msg: Buffer): string | undefined {
  if (msg.length < 27 || msg.readInt32LE(12) !== OP_MSG || msg[20] !== 0) return undefined;
  // header 16, flagBits 4, section kind 1, then the body: int32 length, first element's type and name.
  const type = msg[25];
  const nameStart = 26;
  const nameEnd = msg.indexOf(0, nameStart);
  if (nameEnd < 0) return undefined;
  const name = msg.toString('utf8', nameStart, nameEnd);
  if (type !== 0x02) return name;
  const len = msg.readInt32LE(nameEnd + 1);
  return `${name} ${msg.toString('utf8', nameEnd + 5, nameEnd + 4 + len)}`;
}

export async function startWireCounter(upstreamUri: string): Promise<WireCounter> {
  const upstream = new URL(upstreamUri);
  const counts = new Map<string, number>();
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const target = connect(Number(upstream.port), upstream.hostname);
    sockets.add(client).add(target);
    let pending: Buffer = Buffer.alloc(0);
    client.on('data', (chunk: Buffer) => {
      target.write(chunk);
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      while (pending.length >= 16) {
        const size = pending.readInt32LE(0);
        if (pending.length < size) break;
        const name = commandOf(pending.subarray(0, size)) ?? 'other';
        counts.set(name, (counts.get(name) ?? 0) + 1);
        pending = pending.subarray(size);
      }
    });
    target.pipe(client);
    const close = () => {
      client.destroy();
      target.destroy();
      sockets.delete(client);
      sockets.delete(target);
    };
    client.on('close', close).on('error', close);
    target.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    uri: `mongodb://127.0.0.1:${port}`,
    counts: () => Object.fromEntries(counts),
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** The difference of two `counts()` snapshots, commands sent at least once. */
export function countsSince(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) > 0) out[k] = v - (before[k] ?? 0);
  return out;
}
