import { Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';

/**
 * A BullMQ Worker that, woken up after its queue ran empty, waits `gatherMs` before it takes the
 * first job (docs/benchmarks.md, bench:welcome). BullMQ takes one job per script run and, after
 * taking one, asks again until the queue is empty, then blocks until a job is added: with adds
 * arriving one by one (the welcome lane at a campaign's peak) every job cost a wake-up, two
 * "move to active" script runs (the second finding nothing) and a "move to finished". Waiting a
 * moment after the wake-up lets the jobs added meanwhile be taken in one go: one wake-up and one
 * empty ask per group instead of per job. A queue with jobs waiting is never held back: only the
 * ask after a drain waits. Everything else (locks, stalled jobs, retries) is BullMQ's own.
 */
export class GatheringWorker extends Worker {
  private afterDrain = true;
  gatherMs = 0;

  constructor(name: string, processor: Processor, opts: WorkerOptions) {
    super(name, processor, opts);
    this.on('drained', () => {
      this.afterDrain = true;
    });
  }

  protected override async moveToActive(token: string, name?: string): Promise<Job> {
    if (this.afterDrain && this.gatherMs > 0) {
      this.afterDrain = false;
      await new Promise((resolve) => setTimeout(resolve, this.gatherMs));
    }
    return super.moveToActive(token, name);
  }
}
