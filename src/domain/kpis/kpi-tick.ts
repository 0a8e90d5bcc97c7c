/**
 * The cockpit tick's job name on the maintenance queue (docs/cockpit.md): today's rollup and,
 * once a local day, the settle window. The worker handles it (jobs/processors/kpis.tasks.ts);
 * the development API enqueues one on demand (`POST /api/v1/ops/kpis`).
 */
export const KPI_TICK_TASK = 'kpis-tick';
