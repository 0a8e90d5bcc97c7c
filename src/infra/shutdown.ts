import type { Logger } from './logger.js';

type Step = { name: string; run: () => Promise<void> | void };

/**
 * One ordered, idempotent shutdown (docs/architecture.md §13.9): steps run in the order registered, each
 * logged; the process exits 0 when all finish, 1 when one fails, and is forced out after the timeout.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly timeoutMs: number,
    private readonly exit: (code: number) => void = (code) => process.exit(code),
  ) {}

  add(name: string, run: Step['run']): this {
    this.steps.push({ name, run });
    return this;
  }

  /** Starts the shutdown once; later calls return the same promise. */
  run(reason: string, exitCode = 0): Promise<void> {
    this.running ??= this.execute(reason, exitCode);
    return this.running;
  }

  /** SIGTERM/SIGINT start the shutdown; unhandled rejections and exceptions are fatal. */
  installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) process.once(signal, () => void this.run(signal));
    process.on('unhandledRejection', (err) => {
      this.logger.fatal({ err }, 'unhandled promise rejection');
      void this.run('unhandledRejection', 1);
    });
    process.on('uncaughtException', (err) => {
      this.logger.fatal({ err }, 'uncaught exception');
      void this.run('uncaughtException', 1);
    });
  }

  private async execute(reason: string, exitCode: number): Promise<void> {
    this.logger.info({ reason }, 'shutting down');
    const force = setTimeout(() => {
      this.logger.error({ timeoutMs: this.timeoutMs }, 'shutdown timed out, forcing exit');
      this.exit(1);
    }, this.timeoutMs);
    force.unref();
    let failed = false;
    for (const step of this.steps) {
      const started = Date.now();
      try {
        await step.run();
        this.logger.info({ step: step.name, ms: Date.now() - started }, 'shutdown step done');
      } catch (err) {
        failed = true;
        this.logger.error({ step: step.name, err }, 'shutdown step failed');
      }
    }
    clearTimeout(force);
    this.logger.info({ reason }, 'shutdown complete');
    this.exit(failed ? 1 : exitCode);
  }
}
