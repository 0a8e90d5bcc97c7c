import type { Document } from 'bson';
import { helloReply } from '../handshake.js';
import type { CommandHandler } from './context.js';

const VERSION = '7.0.0';

const hello: CommandHandler = (cmd, ctx) => helloReply(cmd, ctx.connectionId, false);
const isMaster: CommandHandler = (cmd, ctx) => helloReply(cmd, ctx.connectionId, true);

/** Server-level commands: handshake, ping, build info and harmless diagnostics. */
export const adminCommands: Record<string, CommandHandler> = {
  hello,
  isMaster,
  ismaster: isMaster,
  ping: () => ({ ok: 1 }),
  buildInfo: () => ({
    version: VERSION,
    gitVersion: 'dev-mongo',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['dev-mongo-memory'],
    javascriptEngine: 'none',
    modules: [],
    ok: 1,
  }),
  buildinfo: (cmd, ctx) => (adminCommands.buildInfo as CommandHandler)(cmd, ctx),
  getParameter: (cmd) => {
    const reply: Document = { ok: 1 };
    if (cmd.featureCompatibilityVersion !== undefined) reply.featureCompatibilityVersion = { version: '7.0' };
    return reply;
  },
  serverStatus: (_cmd, ctx) => ({
    host: 'dev-mongo',
    version: VERSION,
    process: 'dev-mongo',
    uptime: Math.floor(process.uptime()),
    localTime: new Date(),
    connections: { current: ctx.connectionId },
    ok: 1,
  }),
  hostInfo: () => ({
    system: { currentTime: new Date(), hostname: 'dev-mongo' },
    os: { type: process.platform },
    extra: {},
    ok: 1,
  }),
  getLog: () => ({ totalLinesWritten: 0, log: [], ok: 1 }),
  whatsmyuri: () => ({ you: '127.0.0.1:0', ok: 1 }),
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  getCmdLineOpts: () => ({ argv: ['dev-mongo'], parsed: {}, ok: 1 }),
  killAllSessions: () => ({ ok: 1 }),
  refreshSessions: () => ({ ok: 1 }),
  startSession: () => ({ ok: 1 }),
};
