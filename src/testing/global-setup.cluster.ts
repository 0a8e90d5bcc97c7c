import type { TestProject } from 'vitest/node';
import setup from './global-setup.js';

/** The cluster test project's set-up: the suite's Redis is a private Redis Cluster (docs/scale.md). */
export default function setupCluster(project: TestProject): Promise<() => Promise<void>> {
  return setup(project, 'cluster');
}
