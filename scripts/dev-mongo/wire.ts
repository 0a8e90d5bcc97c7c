import { deserialize, serialize, Long, type Document } from 'bson';

/** Opcodes of the MongoDB wire protocol (https://www.mongodb.com/docs/manual/reference/mongodb-wire-protocol/). */
export const OP_REPLY = 1;
export const OP_QUERY = 2004;
export const OP_MSG = 2013;

export const FLAG_CHECKSUM_PRESENT = 1 << 0;
export const FLAG_MORE_TO_COME = 1 << 1;

/** Largest frame accepted; anything bigger closes the connection. */
export const MAX_MESSAGE_SIZE = 48_000_000;

/** int64 stays a JS number when it fits in 53 bits, so mingo can compare it (docs/dev-mongo.md). */
const DESERIALIZE_OPTIONS = { promoteLongs: true, promoteValues: true, promoteBuffers: false } as const;

export interface WireRequest {
  requestId: number;
  opCode: number;
  /** The command, with kind-1 sequences merged in under their identifiers. */
  command: Document;
  /** Database taken from `$db` (OP_MSG) or the namespace (OP_QUERY). */
  db: string;
  moreToCome: boolean;
}

export class FrameError extends Error {}

/** Parses one complete frame (header included). Throws FrameError on malformed input. */
export function parseFrame(frame: Buffer): WireRequest {
  if (frame.length < 16) throw new FrameError('frame shorter than header');
  const requestId = frame.readInt32LE(4);
  const opCode = frame.readInt32LE(12);
  if (opCode === OP_MSG) return parseOpMsg(frame, requestId);
  if (opCode === OP_QUERY) return parseOpQuery(frame, requestId);
  throw new FrameError(`unsupported opCode ${opCode}`);
}

function readDocument(buf: Buffer, offset: number, end: number): { doc: Document; next: number } {
  if (offset + 5 > end) throw new FrameError('truncated document');
  const size = buf.readInt32LE(offset);
  if (size < 5 || offset + size > end) throw new FrameError('bad document size');
  const doc = deserialize(buf.subarray(offset, offset + size), DESERIALIZE_OPTIONS);
  return { doc, next: offset + size };
}

function readCString(buf: Buffer, offset: number, end: number): { value: string; next: number } {
  const zero = buf.indexOf(0, offset);
  if (zero < 0 || zero >= end) throw new FrameError('unterminated cstring');
  return { value: buf.toString('utf8', offset, zero), next: zero + 1 };
}

function parseOpMsg(frame: Buffer, requestId: number): WireRequest {
  const flags = frame.readUInt32LE(16);
  // The checksumPresent trailer (CRC-32C) is dropped, not verified.
  const end = flags & FLAG_CHECKSUM_PRESENT ? frame.length - 4 : frame.length;
  let offset = 20;
  let body: Document | undefined;
  const sequences: Array<[string, Document[]]> = [];
  while (offset < end) {
    const kind = frame.readUInt8(offset);
    offset += 1;
    if (kind === 0) {
      const { doc, next } = readDocument(frame, offset, end);
      body = doc;
      offset = next;
    } else if (kind === 1) {
      if (offset + 4 > end) throw new FrameError('truncated sequence');
      const size = frame.readInt32LE(offset);
      const seqEnd = offset + size;
      if (size < 5 || seqEnd > end) throw new FrameError('bad sequence size');
      const { value: id, next } = readCString(frame, offset + 4, seqEnd);
      const docs: Document[] = [];
      let p = next;
      while (p < seqEnd) {
        const r = readDocument(frame, p, seqEnd);
        docs.push(r.doc);
        p = r.next;
      }
      sequences.push([id, docs]);
      offset = seqEnd;
    } else {
      throw new FrameError(`unknown OP_MSG section kind ${kind}`);
    }
  }
  if (!body) throw new FrameError('OP_MSG without a body section');
  for (const [id, docs] of sequences) {
    const existing: unknown = body[id];
    body[id] = Array.isArray(existing) ? [...(existing as Document[]), ...docs] : docs;
  }
  const db = typeof body.$db === 'string' ? body.$db : 'admin';
  return { requestId, opCode: OP_MSG, command: body, db, moreToCome: (flags & FLAG_MORE_TO_COME) !== 0 };
}

function parseOpQuery(frame: Buffer, requestId: number): WireRequest {
  const { value: ns, next } = readCString(frame, 20, frame.length);
  const { doc } = readDocument(frame, next + 8, frame.length);
  const query = isWrapped(doc) ? (doc.$query as Document) : doc;
  const dot = ns.indexOf('.');
  return { requestId, opCode: OP_QUERY, command: query, db: dot > 0 ? ns.slice(0, dot) : ns, moreToCome: false };
}

function isWrapped(doc: Document): boolean {
  return typeof doc.$query === 'object' && doc.$query !== null;
}

function header(length: number, requestId: number, responseTo: number, opCode: number): Buffer {
  const h = Buffer.alloc(16);
  h.writeInt32LE(length, 0);
  h.writeInt32LE(requestId, 4);
  h.writeInt32LE(responseTo, 8);
  h.writeInt32LE(opCode, 12);
  return h;
}

/** An OP_MSG reply with one kind-0 section (the driver rejects kind-1 in replies). */
export function encodeOpMsg(reply: Document, requestId: number, responseTo: number): Buffer {
  const body = serialize(reply);
  const flags = Buffer.alloc(5); // flagBits 0 + section kind 0
  return Buffer.concat([header(16 + 5 + body.length, requestId, responseTo, OP_MSG), flags, body]);
}

/** An OP_REPLY answer to the legacy OP_QUERY handshake. */
export function encodeOpReply(reply: Document, requestId: number, responseTo: number): Buffer {
  const body = serialize(reply);
  const fields = Buffer.alloc(20);
  fields.writeInt32LE(0, 0); // responseFlags
  fields.writeBigInt64LE(0n, 4); // cursorID
  fields.writeInt32LE(0, 12); // startingFrom
  fields.writeInt32LE(1, 16); // numberReturned
  return Buffer.concat([header(16 + 20 + body.length, requestId, responseTo, OP_REPLY), fields, body]);
}

/** Cursor ids must be BSON Int64 on the wire. */
export function cursorId(id: number): Long {
  return Long.fromNumber(id);
}
