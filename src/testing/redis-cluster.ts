import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import calculateSlot from 'cluster-key-slot';
import { Redis } from 'ioredis';
import { freePort } from './ports.js';
import { redisServerAvailable } from './redis-server.js';
import { waitFor } from './wait.js';

export interface ClusterNode {
  port: number;
  url: string;
  /** SIGKILL: the node is gone (its replica takes over after the node timeout). */
  kill(): Promise<void>;
  /** Starts the node again on the same ports with the same cluster config (it rejoins, as a replica). */
  restart(): Promise<void>;
  readonly alive: boolean;
  /** The last lines of the node's log (diagnostics when a failover does not happen). */
  logTail(lines?: number): string;
}

export interface PrivateRedisCluster {
  /** Seed nodes, comma-separated, as REDIS_URL takes them with REDIS_MODE=cluster. */
  url: string;
  nodes: ClusterNode[];
  /** The nodes that are masters right now (asks a live node). */
  masters(): Promise<ClusterNode[]>;
  /** The master serving the slot of `key` right now. */
  masterOf(key: string): Promise<ClusterNode | undefined>;
  /** Resolves when every slot is served again (cluster_state:ok on every live node). */
  waitHealthy(timeoutMs?: number): Promise<void>;
  /**
   * Resolves when every live master's replicas are online and have acknowledged everything the
   * master wrote (replication offsets equal). Replication is asynchronous: a failover test kills a
   * master only after this, so it checks the failover and not the replication window.
   */
  waitReplicasInSync(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Short enough that a failover test promotes a replica in seconds, long enough for a loaded 2-core machine. */
const NODE_TIMEOUT_MS = 3000;

/**
 * The private cluster's replicas always stand for election when their master fails
 * (`cluster-replica-validity-factor 0`). With the default (10) a replica whose link to its master
 * was down, or never up (an initial sync still running on a loaded machine), for longer than ten
 * node timeouts refuses to fail over ("Disconnected from master for longer than allowed"), and the
 * slot stays without a master: the cause of the failover test's runs without a promotion
 * (docs/scale.md, "Failover"). `startPrivateRedisCluster` also waits for every replica to be in
 * sync before it returns.
 */
const REPLICA_VALIDITY_FACTOR = 0;

/**
 * Starts a real Redis Cluster of private redis-servers: three masters and three replicas on
 * free ports (client and cluster-bus port each), joined with `redis-cli --cluster create
 * --cluster-replicas 1`. Used by the cluster test project and the failover bench
 * (docs/scale.md, "Tests on a real cluster").
 */
export async function startPrivateRedisCluster({
  masters = 3,
  replicasPerMaster = 1,
} = {}): Promise<PrivateRedisCluster> {
  if (!redisServerAvailable())
    throw new Error('redis-server is not on PATH: install it (apt-get install redis-server)');
  const root = mkdtempSync(join(tmpdir(), 'scrm-redis-cluster-'));
  const count = masters * (1 + replicasPerMaster);
  const nodes: Array<ClusterNode & { child?: ChildProcess }> = [];
  const stop = async () => {
    await Promise.all(nodes.map((n) => n.kill()));
    rmSync(root, { recursive: true, force: true });
  };
  try {
    for (let i = 0; i < count; i++) nodes.push(await startNode(root));
  } catch (err) {
    await stop();
    throw err;
  }
  try {
    const created = spawnSync(
      'redis-cli',
      [
        '--cluster',
        'create',
        ...nodes.map((n) => `127.0.0.1:${n.port}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ],
      { encoding: 'utf8', timeout: 60_000 },
    );
    if (created.status !== 0)
      throw new Error(`redis-cli --cluster create failed: ${(created.stdout + created.stderr).slice(-500)}`);
    const cluster: PrivateRedisCluster = {
      url: nodes.map((n) => n.url).join(','),
      nodes,
      async masters() {
        const live = nodes.find((n) => n.alive);
        if (!live) return [];
        const text = await withProbe(live.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
        const ports = text
          .split('\n')
          .filter((line) => /\bmaster\b/.test(line) && !/\bfail\b/.test(line))
          .map((line) => Number(/:(\d+)@/.exec(line)?.[1]));
        return nodes.filter((n) => ports.includes(n.port));
      },
      async masterOf(key) {
        const live = nodes.find((n) => n.alive);
        if (!live) return undefined;
        const slot = calculateSlot(key);
        const text = await withProbe(live.port, (r) => r.call('CLUSTER', 'NODES') as Promise<string>);
        for (const line of text.split('\n')) {
          if (!/\bmaster\b/.test(line) || /\bfail\b/.test(line)) continue;
          const serves = line
            .split(' ')
            .slice(8)
            .some((range) => {
              const [from, to] = range.split('-').map(Number);
              return from !== undefined && slot >= from && slot <= (to ?? from);
            });
          const port = Number(/:(\d+)@/.exec(line)?.[1]);
          if (serves) return nodes.find((n) => n.port === port);
        }
        return undefined;
      },
      async waitHealthy(timeoutMs = 30_000) {
        await waitFor(
          async () => {
            for (const n of nodes.filter((node) => node.alive)) {
              const info = await withProbe(n.port, (r) => r.call('CLUSTER', 'INFO') as Promise<string>).catch(() => '');
              if (!info.includes('cluster_state:ok')) return false;
            }
            // Every master slot range has a live owner: a write to each master succeeds.
            return (await cluster.masters()).length >= masters;
          },
          'the Redis Cluster to serve every slot',
          { timeoutMs, intervalMs: 100 },
        );
      },
      async waitReplicasInSync(timeoutMs = 30_000) {
        await waitFor(
          async () => {
            for (const master of await cluster.masters()) {
              if (!master.alive) continue;
              const info = await withProbe(master.port, (r) => r.info('replication')).catch(() => '');
              const offset = /master_repl_offset:(\d+)/.exec(info)?.[1];
              const replicas = [...info.matchAll(/^slave\d+:.*state=(\w+),offset=(\d+)/gm)];
              if (replicas.length < replicasPerMaster) return false;
              if (replicas.some((r) => r[1] !== 'online' || r[2] !== offset)) return false;
            }
            return true;
          },
          'every replica in sync with its master',
          { timeoutMs, intervalMs: 50 },
        );
      },
      stop,
    };
    await cluster.waitHealthy();
    await cluster.waitReplicasInSync(60_000);
    return cluster;
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * One cluster node on fresh ports. Another process (a parallel test) can take a port between
 * `freePort` and the node's bind, and the node then exits at once: it is retried on other ports.
 */
async function startNode(root: string): Promise<ClusterNode & { child?: ChildProcess }> {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    const dir = join(root, String(port));
    mkdirSync(dir, { recursive: true });
    const node = clusterNode(port, busPort, dir);
    node.child = launch(port, busPort, dir);
    try {
      await waitPing(port);
      return node;
    } catch (err) {
      await node.kill();
      if (attempt >= 3) throw new Error(`${(err as Error).message}; its log:\n${node.logTail(10)}`, { cause: err });
    }
  }
}

function clusterNode(port: number, busPort: number, dir: string): ClusterNode & { child?: ChildProcess } {
  const node: ClusterNode & { child?: ChildProcess } = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get alive() {
      return Boolean(node.child && node.child.exitCode === null && node.child.signalCode === null);
    },
    async kill() {
      const proc = node.child;
      if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        proc.once('exit', () => resolve());
        proc.kill('SIGKILL');
      });
    },
    async restart() {
      node.child = launch(port, busPort, dir);
      await waitPing(port);
    },
    logTail(lines = 30) {
      try {
        return readFileSync(join(dir, 'redis.log'), 'utf8').split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
  };
  return node;
}

function launch(port: number, busPort: number, dir: string): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--cluster-port',
      String(busPort),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      'nodes.conf',
      '--cluster-node-timeout',
      String(NODE_TIMEOUT_MS),
      '--cluster-replica-validity-factor',
      String(REPLICA_VALIDITY_FACTOR),
      '--logfile',
      join(dir, 'redis.log'),
      '--save',
      '',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--protected-mode',
      'no',
    ],
    { stdio: 'ignore' },
  );
}

async function withProbe<T>(port: number, run: (redis: Redis) => Promise<T>): Promise<T> {
  const probe = new Redis(port, '127.0.0.1', {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: 1000,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return await run(probe);
  } finally {
    probe.disconnect();
  }
}

async function waitPing(port: number): Promise<void> {
  await waitFor(
    async () => (await withProbe(port, (r) => r.ping()).catch(() => '')) === 'PONG',
    `redis-server on port ${port}`,
    { timeoutMs: 10_000, intervalMs: 50 },
  );
}
