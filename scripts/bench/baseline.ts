/**
 * What the benchmarks with a before/after mode share (bench:worker, bench:leads, bench:welcome):
 * the processes of another commit extracted beside this tree's node_modules, their CPU time from
 * /proc, and the MongoDB commands they sent (counted by the preloaded mongo-command-counter.ts).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

/** The module a measured process preloads (`node --import`) to count its MongoDB commands. */
export const MONGO_COMMAND_COUNTER = resolve('scripts/bench/mongo-command-counter.ts');

/**
 * `git archive <ref>` into a temporary directory beside a link to this tree's node_modules, so
 * the web and workers of that commit run from it (`cwd`) against the same back ends. Remove it
 * with `rmSync(dir, { recursive: true, force: true })` when done.
 */
export function checkoutBaseline(ref: string, prefix = 'scrm-bench-baseline-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  execFileSync('sh', ['-c', `git archive ${JSON.stringify(ref)} | tar -x -C ${JSON.stringify(dir)}`]);
  symlinkSync(resolve('node_modules'), join(dir, 'node_modules'));
  return dir;
}

const TICKS_PER_S = 100; // USER_HZ on Linux

/** User + system CPU milliseconds a process has used so far (/proc/<pid>/stat; 0 when it is gone). */
export function cpuMsOf(pid: number | undefined): number {
  if (!pid) return 0;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after "pid (comm) state".
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
  } catch {
    return 0;
  }
}

/**
 * Asks a process that preloaded MONGO_COMMAND_COUNTER (with `BENCH_MONGO_COMMANDS_FILE=file`) for
 * its counts so far, by "collection command".
 */
export async function readCommandCounts(pid: number | undefined, file: string): Promise<Record<string, number>> {
  rmSync(file, { force: true });
  if (pid) process.kill(pid, 'SIGUSR2');
  const deadline = Date.now() + 3000;
  while (!existsSync(file) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  await new Promise((r) => setTimeout(r, 50));
  return existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Record<string, number>) : {};
}

/** The counts of `after` minus those of `before`, keys that grew only. */
export function countsSince(after: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [key, value] of Object.entries(after))
    if (value > (before[key] ?? 0)) out[key] = value - (before[key] ?? 0);
  return out;
}

export const sumCounts = (counts: Record<string, number>): number => Object.values(counts).reduce((a, b) => a + b, 0);
