/**
 * The Kubernetes manifests in deploy/k8s (README "Deployment", docs/scale.md §3) against the
 * Kubernetes API schemas (kubernetes-models ships them as validators; no cluster, no network),
 * and against the bot itself: every setting they pass is one it reads, the probes hit its health
 * routes, every Deployment has probes, requests, its Secret and a PodDisruptionBudget, and the
 * autoscalers name Deployments and metrics that exist.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Secret, Service } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { envVars } from '../config/schema.js';
import { QueueName } from '../src/queues/queue-names.js';

const DIR = 'deploy/k8s';

interface Manifest {
  kind: string;
  apiVersion: string;
  metadata: { name: string };
  [key: string]: unknown;
}

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1/Deployment': Deployment,
  'autoscaling/v2/HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': PodDisruptionBudget,
  'v1/ConfigMap': ConfigMap,
  'v1/Namespace': Namespace,
  'v1/Secret': Secret,
  'v1/Service': Service,
};

function load(file: string): Manifest[] {
  return parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message}`);
      return doc.toJS() as Manifest;
    })
    .filter(Boolean);
}

const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
const all = files.flatMap((file) => load(file).map((m) => ({ file, m })));
const kustomization = load('kustomization.yaml')[0] as unknown as { resources: string[] };
const applied = all.filter(({ file }) => kustomization.resources.includes(file)).map(({ m }) => m);
const ofKind = <T>(kind: string) => applied.filter((m) => m.kind === kind) as unknown as T[];

interface Container {
  name: string;
  command?: string[];
  env?: Array<{ name: string; value?: string }>;
  envFrom?: Array<{ configMapRef?: { name: string }; secretRef?: { name: string } }>;
  resources?: { requests?: { cpu?: string; memory?: string } };
  livenessProbe?: { httpGet?: { path: string } };
  readinessProbe?: { httpGet?: { path: string } };
}
interface DeploymentDoc {
  metadata: { name: string };
  spec: { selector: { matchLabels: Record<string, string> }; template: { spec: { containers: Container[] } } };
}

describe('Kubernetes manifests', () => {
  it('are valid against the Kubernetes API schemas', () => {
    expect(all.length).toBeGreaterThan(8);
    for (const { file, m } of all) {
      const Model = MODELS[`${m.apiVersion}/${m.kind}`];
      if (!Model) throw new Error(`${file}: no schema for ${m.apiVersion} ${m.kind}`);
      expect(() => new Model(m as never).validate(), `${file} ${m.kind} ${m.metadata.name}`).not.toThrow();
    }
  });

  it('the validation bites: a wrong type or a probe without a port is refused', () => {
    expect(() =>
      new Deployment({
        metadata: { name: 'x' },
        spec: { replicas: 'two', selector: {}, template: {} },
      } as never).validate(),
    ).toThrow(/replicas must be integer/);
    const probeWithoutPort = {
      metadata: { name: 'x' },
      spec: {
        selector: {},
        template: { spec: { containers: [{ name: 'a', livenessProbe: { httpGet: { path: '/livez' } } }] } },
      },
    };
    expect(() => new Deployment(probeWithoutPort as never).validate()).toThrow(/port/);
  });

  it('the kustomization applies every file but the example Secret', () => {
    expect([...kustomization.resources].sort()).toEqual(files.filter((f) => f !== 'secret.example.yaml').sort());
  });

  it('every Deployment has probes on the health routes, resource requests, the config and the Secret, and a PodDisruptionBudget', () => {
    const deployments = ofKind<DeploymentDoc>('Deployment');
    expect(deployments.map((d) => d.metadata.name).sort()).toEqual(['scrm-web', 'scrm-welcome-worker', 'scrm-worker']);
    const pdbs = ofKind<{ spec: { selector: { matchLabels: Record<string, string> } } }>('PodDisruptionBudget');
    for (const d of deployments) {
      const c = d.spec.template.spec.containers[0] as Container;
      expect(c.livenessProbe?.httpGet?.path, d.metadata.name).toBe('/livez');
      expect(c.readinessProbe?.httpGet?.path, d.metadata.name).toBe('/readyz');
      expect(c.resources?.requests?.cpu, d.metadata.name).toBeDefined();
      expect(c.resources?.requests?.memory, d.metadata.name).toBeDefined();
      expect(c.envFrom?.map((e) => e.secretRef?.name ?? e.configMapRef?.name)).toEqual(['scrm-config', 'scrm-secrets']);
      expect(
        pdbs.some((p) =>
          Object.entries(p.spec.selector.matchLabels).every(([k, v]) => d.spec.selector.matchLabels[k] === v),
        ),
        `${d.metadata.name} has a PodDisruptionBudget`,
      ).toBe(true);
    }
    const queuesOf = (name: string) =>
      deployments
        .find((d) => d.metadata.name === name)
        ?.spec.template.spec.containers[0]?.env?.find((e) => e.name === 'WORKER_QUEUES')
        ?.value?.split(',');
    // Between them the two workers consume every queue, the welcome lane alone in its own.
    expect([...(queuesOf('scrm-worker') ?? []), ...(queuesOf('scrm-welcome-worker') ?? [])].sort()).toEqual(
      Object.values(QueueName).sort(),
    );
    expect(queuesOf('scrm-welcome-worker')).toEqual([QueueName.wecomWelcome]);
  });

  it('passes only settings the bot reads, and keeps secrets out of the ConfigMap', () => {
    const known = new Set(Object.keys(envVars));
    const secretNames = new Set(
      Object.entries(envVars)
        .filter(([, spec]) => (spec as { secret?: boolean }).secret)
        .map(([name]) => name),
    );
    const config = ofKind<{ data: Record<string, string> }>('ConfigMap')[0]?.data ?? {};
    for (const name of Object.keys(config)) {
      expect(known.has(name), `${name} is a setting of the bot`).toBe(true);
      expect(secretNames.has(name), `${name} belongs in the Secret`).toBe(false);
    }
    expect(config.REDIS_MODE).toBe('cluster');
    const secret = load('secret.example.yaml')[0] as unknown as { stringData: Record<string, string> };
    for (const name of Object.keys(secret.stringData))
      expect(known.has(name), `${name} is a setting of the bot`).toBe(true);
    for (const d of ofKind<DeploymentDoc>('Deployment')) {
      for (const e of d.spec.template.spec.containers[0]?.env ?? [])
        expect(known.has(e.name), `${d.metadata.name} ${e.name}`).toBe(true);
    }
  });

  it('autoscales workers on the queue-depth metric the bot exports, for queues that exist', () => {
    const metrics = readFileSync('src/infra/metrics.ts', 'utf8');
    const deployments = new Set(ofKind<DeploymentDoc>('Deployment').map((d) => d.metadata.name));
    for (const hpa of ofKind<{
      metadata: { name: string };
      spec: {
        scaleTargetRef: { name: string };
        metrics: Array<{
          type: string;
          external?: { metric: { name: string; selector: { matchLabels: { queue: string } } } };
        }>;
      };
    }>('HorizontalPodAutoscaler')) {
      expect(deployments.has(hpa.spec.scaleTargetRef.name)).toBe(true);
      for (const m of hpa.spec.metrics.filter((x) => x.type === 'External')) {
        expect(metrics).toContain(`name: '${m.external?.metric.name}'`);
        expect(Object.values(QueueName)).toContain(m.external?.metric.selector.matchLabels.queue);
      }
    }
  });
});
