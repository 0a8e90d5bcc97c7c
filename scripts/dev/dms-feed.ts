import { spawn, type ChildProcess } from 'node:child_process';

/** How often `npm run dev` feeds the simulated DMS (the KPI tick's period: the cockpit follows within one). */
export const DMS_FEED_EVERY_MS = 15 * 60_000;

export interface DmsFeed {
  stop(): void;
}

/**
 * Runs the DMS simulator (`npm run dms:simulate`, scripts/dms-simulator/) against the dev stack's
 * signed webhook at start and then every `everyMs`, so repair orders, policies and sales flow while
 * developing (docs/outcomes.md "Simulator"). Each run sends the last 90 days of the corp's
 * vehicles; the stream is deterministic and versioned, so a repeat is `unchanged` and only new
 * vehicles (npm run demo adds one) bring new outcomes. `say` gets the simulator's summary line.
 */
export function startDmsFeed(opts: {
  botUrl: string;
  corpId: string;
  secret: string;
  say: (line: string) => void;
  everyMs?: number;
  /** The simulator's environment (default this process's): it reads the stack's settings from .data/dev.env. */
  env?: NodeJS.ProcessEnv;
}): DmsFeed {
  let child: ChildProcess | undefined;
  let stopped = false;
  const run = () => {
    if (stopped || child) return;
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'scripts/dms-simulator/cli.ts',
        '--corp',
        opts.corpId,
        '--secret',
        opts.secret,
        '--url',
        opts.botUrl,
      ],
      { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env },
    );
    let out = '';
    child.stdout?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.once('exit', (code) => {
      child = undefined;
      if (stopped) return;
      const last = out.trim().split('\n').at(-1) ?? '';
      opts.say(code === 0 ? `DMS simulator: ${last}` : `DMS simulator failed (code ${code}): ${last}`);
    });
  };
  run();
  const timer = setInterval(run, opts.everyMs ?? DMS_FEED_EVERY_MS);
  timer.unref();
  return {
    stop() {
      stopped = true;
      clearInterval(timer);
      if (child && child.exitCode === null) child.kill('SIGTERM');
    },
  };
}
