import type { Document } from 'bson';

/** MongoDB 7.0's wire version; driver 7.x accepts 9..29. */
export const MAX_WIRE_VERSION = 21;

/**
 * The hello / isMaster reply of a standalone server. `topologyVersion` and `compression`
 * are left out on purpose: they would oblige the server to stream hellos or compress.
 */
export function helloReply(cmd: Document, connectionId: number, legacy: boolean): Document {
  const reply: Document = {};
  if (cmd.helloOk === true) reply.helloOk = true;
  if (legacy) reply.ismaster = true;
  else reply.isWritablePrimary = true;
  Object.assign(reply, {
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId,
    minWireVersion: 0,
    maxWireVersion: MAX_WIRE_VERSION,
    readOnly: false,
    ok: 1,
  });
  return reply;
}
