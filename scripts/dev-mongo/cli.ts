import { parseArgs } from 'node:util';
import { startDevMongo } from './index.js';

/** `npm run dev:mongo -- --port 27017 [--host 127.0.0.1] [--data-file PATH] [--log-commands]` */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      port: { type: 'string', default: '27017' },
      host: { type: 'string', default: '127.0.0.1' },
      'data-file': { type: 'string' },
      'log-commands': { type: 'boolean', default: false },
    },
  });
  const port = Number(values.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be 0-65535, got ${values.port ?? ''}`);
  const server = await startDevMongo({
    port,
    host: values.host,
    dataFile: values['data-file'],
    logCommands: values['log-commands'],
  });
  console.log(server.uri);
  let closing = false;
  const shutdown = (signal: string): void => {
    if (closing) return;
    closing = true;
    console.error(JSON.stringify({ level: 'info', msg: 'dev-mongo: shutting down', signal }));
    const force = setTimeout(() => process.exit(1), 10_000);
    force.unref();
    server.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        console.error(err);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', () => shutdown('SIGINT'));
  process.on('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
