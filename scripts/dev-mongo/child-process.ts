import { spawnNode, type RunningProcess } from '../../src/testing/processes.js';
import { waitFor } from '../../src/testing/wait.js';

export interface DevMongoProcess {
  uri: string;
  process: RunningProcess;
  stop(): Promise<void>;
}

/**
 * The dev MongoDB server in a process of its own (port 0: it prints the port it got). Benchmarks
 * use it so the server's work runs beside the client's, as a real MongoDB would, instead of
 * taking turns on the client's event loop.
 */
export async function startDevMongoProcess(
  opts: { args?: string[]; nodeArgs?: string[] } = {},
): Promise<DevMongoProcess> {
  const proc = spawnNode(
    [...(opts.nodeArgs ?? []), '--import', 'tsx', 'scripts/dev-mongo/cli.ts', '--port', '0', ...(opts.args ?? [])],
    { NODE_ENV: 'development' },
  );
  let uri = '';
  await waitFor(
    () => {
      uri = /mongodb:\/\/127\.0\.0\.1:\d+/.exec(proc.output())?.[0] ?? '';
      if (!uri && proc.child.exitCode !== null)
        throw new Error(`dev MongoDB server exited: ${proc.output().slice(-500)}`);
      return uri !== '';
    },
    'dev MongoDB server listening',
    { timeoutMs: 30_000 },
  );
  return { uri, process: proc, stop: async () => void (await proc.stop()) };
}
