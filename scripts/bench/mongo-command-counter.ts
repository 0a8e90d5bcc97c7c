/**
 * Preloaded into a benchmarked process (`node --import <this file>`) to count the MongoDB commands
 * it sends, by collection and command name, with the driver's command monitoring
 * (docs/scale.md §4). It wraps `mongoose.connect` (the processes use the default connection), so
 * it needs no change to the product code and counts an older checkout the same way (the bench's
 * baseline pass). The counts are written to `$BENCH_MONGO_COMMANDS_FILE` on SIGUSR2 (writing them
 * on a timer cost measurable CPU).
 */
import { writeFileSync } from 'node:fs';
import mongoose from 'mongoose';

const file = process.env.BENCH_MONGO_COMMANDS_FILE;
if (file) {
  const counts: Record<string, number> = {};
  const count = (event: { commandName: string; command: Record<string, unknown> }) => {
    const target = event.command[event.commandName];
    const key = `${typeof target === 'string' ? target : '-'} ${event.commandName}`;
    counts[key] = (counts[key] ?? 0) + 1;
  };
  const connect = mongoose.connect.bind(mongoose);
  mongoose.connect = (async (uri: string, options?: mongoose.ConnectOptions) => {
    const connected = await connect(uri, { ...options, monitorCommands: true });
    connected.connection.getClient().on('commandStarted', count);
    return connected;
  }) as typeof mongoose.connect;
  process.on('SIGUSR2', () => writeFileSync(file, JSON.stringify(counts)));
}
