import { spawnNode, type RunningProcess } from '../../src/testing/processes.js';
import { waitFor } from '../../src/testing/wait.js';

export interface DevMongoProcess {
  uri: string;
  /** The running server process (a new one after `restart`). */
  readonly process: RunningProcess;
  /**
   * Stops the server as a MongoDB restart does, with SIGTERM (the dev server writes its snapshot:
   * every acknowledged write survives, as MongoDB's journal keeps them), and starts it again on the
   * same port with the same data file. Only for a server started with `dataFile`.
   */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The dev MongoDB server in a process of its own (port 0 unless given: it prints the port it
 * got). Benchmarks use it so the server's work runs beside the client's, as a real MongoDB would,
 * instead of taking turns on the client's event loop. With `dataFile` it keeps its data across
 * `restart()` (docs/dev-mongo.md, persistence).
 */
export async function startDevMongoProcess(
  opts: { args?: string[]; nodeArgs?: string[]; port?: number; dataFile?: string } = {},
): Promise<DevMongoProcess> {
  // DEV_MONGO_CPU_PROF_DIR=<dir>: the server writes a V8 CPU profile there when it stops (docs/dev-mongo.md, "Profiling").
  const profDir = process.env.DEV_MONGO_CPU_PROF_DIR;
  const profArgs = profDir ? ['--cpu-prof', '--cpu-prof-dir', profDir] : [];
  const launch = async (port: number): Promise<{ proc: RunningProcess; uri: string }> => {
    const proc = spawnNode(
      [
        ...profArgs,
        ...(opts.nodeArgs ?? []),
        '--import',
        'tsx',
        'scripts/dev-mongo/cli.ts',
        '--port',
        String(port),
        ...(opts.dataFile ? ['--data-file', opts.dataFile] : []),
        ...(opts.args ?? []),
      ],
      {
        NODE_ENV: 'development',
        // DEV_MONGO_PROFILE_FILE=<path>: time and documents examined per command shape (docs/dev-mongo.md, "Profiling").
        ...(process.env.DEV_MONGO_PROFILE_FILE ? { DEV_MONGO_PROFILE_FILE: process.env.DEV_MONGO_PROFILE_FILE } : {}),
      },
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
      // A start compiles the sources (tsx): on a loaded machine (load average 25-30) over 30 s once.
      { timeoutMs: 120_000 },
    );
    return { proc, uri };
  };
  let current = await launch(opts.port ?? 0);
  const uri = current.uri;
  return {
    uri,
    get process() {
      return current.proc;
    },
    async restart() {
      if (!opts.dataFile) throw new Error('restart() needs a dev MongoDB server started with a dataFile');
      await current.proc.stop('SIGTERM');
      current = await launch(Number(new URL(uri).port));
    },
    stop: async () => void (await current.proc.stop()),
  };
}
