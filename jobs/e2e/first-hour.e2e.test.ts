/**
 * The newcomer's first hour, played the way a person does it (README "The two commands"): on a
 * clean copy of the tracked tree, `npm run dev` until ready, the console answers, `npm run token`
 * and `npm run demo` work with nothing exported, Ctrl-C (SIGINT to the whole process group, as a
 * terminal sends it), restart, the demo again, and what was added before Ctrl-C is still there.
 * Everything runs in the copy's own `.data` on free ports, with its own redis-server.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildConsoleOnce } from './browser.test-support.js';
import { redisAnswers } from '../../scripts/dev/dev-services.js';
import { freePort } from '../../src/testing/ports.js';
import { waitFor } from '../../src/testing/wait.js';

const repo = resolve(import.meta.dirname, '../..');
const clone = mkdtempSync(join(tmpdir(), 'scrm-first-hour-'));
const hasRedisServer = spawnSync('redis-server', ['--version'], { stdio: 'ignore' }).status === 0;

/** Only what a fresh terminal has: no REDIS_URL, MONGODB_URI, NODE_ENV or keys. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? clone,
    LANG: 'C.UTF-8',
    NO_COLOR: '1',
    npm_config_update_notifier: 'false',
  };
  return { ...env, ...extra };
}

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `npm run <args>` in the copy, to completion. */
function npmRun(args: string[], timeoutMs = 120_000): Promise<Run> {
  return new Promise((done, fail) => {
    const child = spawn('npm', ['run', '-s', ...args], {
      cwd: clone,
      env: cleanEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', fail);
    child.once('exit', (code) => {
      clearTimeout(timer);
      done({ code, stdout, stderr });
    });
  });
}

interface Dev {
  child: ChildProcess;
  log: () => string;
  exited: Promise<string>;
}
let ports: { web: number; sandbox: number; mongo: number; redis: number };
let dev: Dev | undefined;

/** `npm run dev` in its own process group, as a terminal runs it in the foreground. */
function startDev(): Dev {
  const child = spawn('npm', ['run', 'dev'], {
    cwd: clone,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv({
      PORT: String(ports.web),
      SANDBOX_PORT: String(ports.sandbox),
      DEV_MONGO_PORT: String(ports.mongo),
      REDIS_URL: `redis://127.0.0.1:${ports.redis}`,
    }),
  });
  let log = '';
  child.stdout?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  child.stderr?.on('data', (b: Buffer) => {
    log += b.toString();
  });
  const exited = new Promise<string>((done) => child.once('exit', (code, signal) => done(signal ?? `code ${code}`)));
  return { child, log: () => log, exited };
}

async function untilReady(d: Dev): Promise<void> {
  await waitFor(
    async () => {
      if (d.child.exitCode !== null) throw new Error(`npm run dev exited: ${d.log().slice(-2000)}`);
      return (
        d.log().includes('npm run demo   (in a second terminal') &&
        (await fetch(`http://127.0.0.1:${ports.web}/readyz`).then(
          (r) => r.ok,
          () => false,
        ))
      );
    },
    'npm run dev to print its banner and answer /readyz',
    { timeoutMs: 240_000, intervalMs: 250 },
  );
}

/** Ctrl-C: SIGINT to every process in the group at once; resolves with how npm ended. */
async function ctrlC(d: Dev): Promise<string> {
  if (d.child.pid === undefined || d.child.exitCode !== null) return `code ${d.child.exitCode}`;
  process.kill(-d.child.pid, 'SIGINT');
  return d.exited;
}

function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  const tracked = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
  })
    .stdout.split('\0')
    .filter(Boolean);
  for (const file of tracked) {
    if (!existsSync(join(repo, file))) continue;
    mkdirSync(dirname(join(clone, file)), { recursive: true });
    cpSync(join(repo, file), join(clone, file));
  }
  symlinkSync(join(repo, 'node_modules'), join(clone, 'node_modules'), 'dir');
  // The console is built once for the suite (skipped when fresh, shared with the browser tests);
  // its freshness stamp makes npm run dev in the copy serve it instead of building it again.
  buildConsoleOnce();
  cpSync(join(repo, 'dist/console'), join(clone, 'dist/console'), { recursive: true });
  ports = { web: await freePort(), sandbox: await freePort(), mongo: await freePort(), redis: await freePort() };
}, 300_000);

afterAll(async () => {
  if (dev?.child.pid !== undefined && dev.child.exitCode === null) {
    await Promise.race([ctrlC(dev), new Promise((r) => setTimeout(r, 30_000))]);
    if (groupAlive(dev.child.pid)) process.kill(-dev.child.pid, 'SIGKILL');
  }
  rmSync(clone, { recursive: true, force: true });
}, 60_000);

describe.skipIf(!hasRedisServer)('the first hour on a clean tree', () => {
  it('npm run dev serves the console, CLIs and the demo work, Ctrl-C saves everything, a restart carries on', async () => {
    dev = startDev();
    await untilReady(dev);
    expect(dev.log()).toContain(`http://localhost:${ports.web}/console/`);
    expect(dev.log()).not.toContain('building the console');

    const page = await fetch(`http://localhost:${ports.web}/console/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<div id="app"><\/div>/);

    const created = await npmRun(['token', '--', 'create', '--role', 'admin', '--label', 'first-hour-check']);
    expect(created.stderr).toContain('created for role admin');
    expect(created.code).toBe(0);
    const listed = await npmRun(['token', '--', 'list']);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/\tadmin\t\*\t-\tactive\t(never used|used \S+)\tfirst-hour-check/);

    const demo1 = await npmRun(['demo']);
    expect(demo1.stderr).toBe('');
    expect(demo1.stdout).toContain("📊 张伟's follow-ups: 2 due, 1 done on time, 0 done late, 1 overdue, 1 escalated");
    expect(demo1.code).toBe(0);

    // Ctrl-C: every process stops in order and the data is saved.
    const pid = dev.child.pid as number;
    // npm waits for the dev process, then ends by the same signal, as a shell expects after ^C.
    expect(['SIGINT', 'code 0', 'code 130']).toContain(await ctrlC(dev));
    // npm can exit a moment before the last of its group has (a loaded machine shows the gap): no
    // process of the stack may outlive Ctrl-C by more than a few seconds.
    await waitFor(() => !groupAlive(pid), 'every process of npm run dev to exit after Ctrl-C', {
      timeoutMs: 15_000,
      intervalMs: 100,
    });
    expect(await redisAnswers(`redis://127.0.0.1:${ports.redis}`)).toBe(false);
    expect(dev.log()).toMatch(/\[worker\] shutdown complete/);
    expect(dev.log()).toMatch(/dev-mongo: snapshot written/);
    expect(existsSync(join(clone, '.data/dev.env'))).toBe(false);
    const afterStop = await npmRun(['token', '--', 'list']);
    expect(afterStop.code).not.toBe(0);
    expect(afterStop.stderr).toContain('npm run dev');

    dev = startDev();
    await untilReady(dev);
    expect(dev.log()).toContain('carried over from the last run');
    const again = await npmRun(['token', '--', 'list']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('first-hour-check');

    const demo2 = await npmRun(['demo']);
    expect(demo2.stderr).toBe('');
    expect(demo2.stdout).toContain("📊 张伟's follow-ups: 2 due, 1 done on time, 0 done late, 1 overdue, 1 escalated");
    expect(demo2.code).toBe(0);
    // The bot kept its WeCom ids: no tag marked against ids the sandbox no longer knows.
    expect(dev.log()).not.toMatch(/40068|invalid tag/);
  }, 300_000);
});
