import net from 'node:net';
import type { Document } from 'bson';
import type { DevMongoLogger } from './logger.js';
import { FrameError, MAX_MESSAGE_SIZE, OP_QUERY, encodeOpMsg, encodeOpReply, parseFrame } from './wire.js';

export type Dispatch = (cmd: Document, db: string, connectionId: number) => Document | Promise<Document>;

/**
 * Accumulates TCP chunks into frames (a frame may span chunks, a chunk may hold several
 * frames) and answers each in order. A malformed or oversized frame closes only this socket.
 * A reply that has to wait (a write blocked by another transaction) holds back the frames
 * behind it on this connection, so answers keep their order.
 */
function handleConnection(socket: net.Socket, connectionId: number, dispatch: Dispatch, logger: DevMongoLogger): void {
  let buffered: Buffer = Buffer.alloc(0);
  let nextResponseId = 1;
  let waiting = false;
  socket.setNoDelay(true);
  socket.on('error', () => socket.destroy());

  const answer = (request: ReturnType<typeof parseFrame>, reply: Document): void => {
    if (request.moreToCome || socket.destroyed) return;
    try {
      const out =
        request.opCode === OP_QUERY
          ? encodeOpReply(reply, nextResponseId++, request.requestId)
          : encodeOpMsg(reply, nextResponseId++, request.requestId);
      socket.write(out);
    } catch (err) {
      // A reply that cannot be serialized still gets an answer.
      const message = err instanceof Error ? err.message : String(err);
      socket.write(
        encodeOpMsg(
          { ok: 0, code: 10334, codeName: 'BSONObjectTooLarge', errmsg: message },
          nextResponseId++,
          request.requestId,
        ),
      );
    }
  };

  const drain = (): void => {
    while (!waiting && buffered.length >= 4) {
      const length = buffered.readInt32LE(0);
      if (length < 16 || length > MAX_MESSAGE_SIZE) {
        logger.warn({ connectionId, length }, 'closing connection: bad frame length');
        socket.destroy();
        return;
      }
      if (buffered.length < length) return;
      const frame = buffered.subarray(0, length);
      buffered = buffered.subarray(length);
      let request: ReturnType<typeof parseFrame>;
      try {
        request = parseFrame(frame);
      } catch (err) {
        const reason = err instanceof FrameError ? err.message : String(err);
        logger.warn({ connectionId, reason }, 'closing connection: malformed frame');
        socket.destroy();
        return;
      }
      const reply = dispatch(request.command, request.db, connectionId);
      if (!(reply instanceof Promise)) {
        answer(request, reply);
        continue;
      }
      waiting = true;
      void reply.then((late) => {
        waiting = false;
        answer(request, late);
        drain();
      });
    }
  };

  socket.on('data', (chunk: Buffer) => {
    buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
    drain();
  });
}

export interface WireServer {
  port: number;
  close(): Promise<void>;
}

/** Told when a client connection opens and closes (open transactions end with their client). */
export interface ConnectionHooks {
  opened(connectionId: number): void;
  closed(connectionId: number): void;
}

/** Starts the TCP listener. */
export async function listen(
  host: string,
  port: number,
  dispatch: Dispatch,
  logger: DevMongoLogger,
  connections?: ConnectionHooks,
): Promise<WireServer> {
  const sockets = new Set<net.Socket>();
  let connectionIds = 0;
  const server = net.createServer((socket) => {
    const connectionId = ++connectionIds;
    sockets.add(socket);
    connections?.opened(connectionId);
    socket.on('close', () => {
      sockets.delete(socket);
      connections?.closed(connectionId);
    });
    handleConnection(socket, connectionId, dispatch, logger);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => logger.error({ err: err.message }, 'listener error'));
  const address = server.address();
  const actualPort = typeof address === 'object' && address ? address.port : port;
  return {
    port: actualPort,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
