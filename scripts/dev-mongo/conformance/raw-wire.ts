import net from 'node:net';
import { deserialize, serialize, type Document } from 'bson';

/** CRC-32C (Castagnoli), for the OP_MSG checksum trailer. */
function crc32c(buf: Buffer): number {
  let crc = 0xffffffff;
  for (const byte of buf) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

/** A hand-built OP_MSG frame (independent of the server's own codec). */
export function opMsg(requestId: number, body: Document, opts: { checksum?: boolean; opCode?: number } = {}): Buffer {
  const doc = Buffer.from(serialize(body));
  const flags = opts.checksum ? 1 : 0;
  const len = 16 + 4 + 1 + doc.length + (opts.checksum ? 4 : 0);
  const head = Buffer.alloc(21);
  head.writeInt32LE(len, 0);
  head.writeInt32LE(requestId, 4);
  head.writeInt32LE(0, 8);
  head.writeInt32LE(opts.opCode ?? 2013, 12);
  head.writeUInt32LE(flags, 16);
  head.writeUInt8(0, 20);
  const msg = Buffer.concat([head, doc]);
  if (!opts.checksum) return msg;
  const sum = Buffer.alloc(4);
  sum.writeUInt32LE(crc32c(msg), 0);
  return Buffer.concat([msg, sum]);
}

export interface RawReply {
  responseTo: number;
  body: Document;
}

/** A raw TCP connection that collects OP_MSG replies. */
export class RawConnection {
  private buffered = Buffer.alloc(0);
  readonly replies: RawReply[] = [];
  closed = false;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffered = Buffer.concat([this.buffered, chunk]);
      while (this.buffered.length >= 4 && this.buffered.length >= this.buffered.readInt32LE(0)) {
        const len = this.buffered.readInt32LE(0);
        const frame = this.buffered.subarray(0, len);
        this.buffered = this.buffered.subarray(len);
        this.replies.push({ responseTo: frame.readInt32LE(8), body: deserialize(frame.subarray(21)) });
      }
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', () => undefined);
  }

  static async open(uri: string): Promise<RawConnection> {
    const u = new URL(uri.split(',')[0] ?? uri);
    const socket = net.connect(Number(u.port || 27017), u.hostname);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawConnection(socket);
  }

  async waitFor(predicate: () => boolean, timeoutMs = 3000): Promise<boolean> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    return predicate();
  }

  close(): void {
    this.socket.destroy();
  }
}
