/**
 * Starts the benchmark's server under test as a child process, so it gets its own core share
 * instead of competing with autocannon for one event loop. The child runs a bundle compiled once
 * with esbuild (the TypeScript transpiler never runs in the measured process) and can be
 * profiled with BENCH_PROFILE_DIR (writes a .cpuprofile per server on exit).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';
import { freePort } from '../../src/testing/ports.js';

export type ServerMode = 'bare' | 'real';

export interface RunningServer {
  url: string;
  /** CPU seconds (user + system) the server process has used so far (Linux /proc; 0 elsewhere). */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

const OUT_DIR = 'node_modules/.cache/ingest-bench';

/**
 * The V8 flags production runs the web role with (Dockerfile CMD): none. Given to both servers so
 * bare Koa gets the same runtime; BENCH_NODE_ARGS replaces them (e.g. `--max-semi-space-size=32`,
 * which measured ~15 % slower for the endpoint once runs were timed to their last response).
 */
export const WEB_NODE_ARGS: readonly string[] = [];

/** Compiles scripts/bench/ingest-server.ts and what it imports into one ESM file; returns its path. */
export async function buildServer(): Promise<string> {
  mkdirSync(OUT_DIR, { recursive: true });
  const outfile = join(OUT_DIR, 'ingest-server.mjs');
  await build({
    entryPoints: ['scripts/bench/ingest-server.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    outfile,
    logLevel: 'warning',
  });
  return outfile;
}

export async function startServer(
  bundle: string,
  mode: ServerMode,
  env: Record<string, string>,
): Promise<RunningServer> {
  const port = await freePort();
  const profileDir = process.env.BENCH_PROFILE_DIR;
  const nodeArgs = [
    ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? WEB_NODE_ARGS),
    ...(profileDir
      ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${mode}-${Date.now()}.cpuprofile`]
      : []),
  ];
  const child = spawn(process.execPath, [...nodeArgs, bundle, mode, String(port)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (chunk: Buffer) => chunk.toString().includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`${mode} server exited with ${code}`)));
  });
  return {
    url: `http://127.0.0.1:${port}`,
    cpuSeconds: () => processCpuSeconds(child.pid),
    stop: () => stopChild(child),
  };
}

/** utime + stime from /proc/<pid>/stat, in seconds (clock ticks of 1/100 s on Linux). */
function processCpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** SIGTERM (the server exits cleanly, flushing a CPU profile if one is being taken). */
function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}
