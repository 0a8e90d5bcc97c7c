import type { Logger } from './logger.js';
import type { Metrics } from './metrics.js';

/** What an operator must act on (docs/reliability.md, "Alerts on repeated job failures"). */
export type AlertKind =
  | 'callback_signature' // many bad signatures for a known corp: wrong Token/EncodingAESKey configured
  | 'clock_skew' // validly signed callbacks outside the timestamp window: a clock is wrong
  | 'wecom_config' // WeCom 48002 / 48006 / 60020: permission, inactivity, untrusted IP
  | 'queue_age' // the oldest waiting job of a queue is older than QUEUE_AGE_ALERT_S
  | 'spool' // callbacks could not be queued or spooled
  | 'worker_stalled' // a worker consumed nothing while jobs waited and was recreated
  | 'welcome_missed' // welcome codes expired before the welcome could be sent (docs/reliability.md)
  | 'outbox_lag' // domain events wait in the outbox longer than the threshold (docs/reliability.md)
  | 'job_failures'; // many failures of one kind of job within a window (docs/reliability.md)

/** Delivers an alert text somewhere people read (a WeCom app message to the ops user ids). */
export type AlertSink = (text: string, alert: { kind: AlertKind; subject: string }) => Promise<void>;

export interface AlerterDeps {
  logger: Logger;
  /** The same (kind, subject) is raised at most once per interval. */
  minIntervalMs: number;
  metrics?: Metrics;
  sink?: AlertSink;
  nowMs?: () => number;
}

/**
 * Raises operator alerts: one structured log line with `alert: true` (what log-based alerting
 * keys on) and, when configured, a message through the sink; rate-limited per kind and subject.
 * Alert texts carry ids and reasons, never personal data or secrets.
 */
export class Alerter {
  private readonly last = new Map<string, number>();
  private readonly counters = new Map<string, number[]>();

  constructor(private readonly deps: AlerterDeps) {}

  /** Returns true when the alert was emitted (false when rate-limited). */
  raise(kind: AlertKind, subject: string, message: string, details: Record<string, unknown> = {}): boolean {
    const now = this.now();
    const id = `${kind}\u0000${subject}`;
    const previous = this.last.get(id);
    if (previous !== undefined && now - previous < this.deps.minIntervalMs) return false;
    this.last.set(id, now);
    if (this.last.size > 10_000) this.last.clear(); // bounded: subjects come from configured corps and queues
    this.deps.metrics?.alerts.inc({ kind });
    this.deps.logger.error({ alert: true, kind, subject, ...details }, message);
    if (this.deps.sink) {
      this.deps.sink(`[SCRM alert] ${kind} ${subject}: ${message}`, { kind, subject }).catch((err: Error) => {
        this.deps.logger.warn({ kind, subject, err: err.message }, 'alert message could not be delivered');
      });
    }
    return true;
  }

  /**
   * Counts an occurrence and raises the alert once `threshold` occurrences fall within
   * `windowMs` (one bad signature is noise or a scanner; many for one corp is a wrong key).
   */
  count(
    kind: AlertKind,
    subject: string,
    threshold: number,
    windowMs: number,
    message: string,
    details: Record<string, unknown> = {},
  ): boolean {
    const now = this.now();
    const id = `${kind}\u0000${subject}`;
    const recent = (this.counters.get(id) ?? []).filter((t) => now - t < windowMs);
    recent.push(now);
    this.counters.set(id, recent.slice(-threshold));
    if (this.counters.size > 10_000) this.counters.clear();
    return recent.length >= threshold
      ? this.raise(kind, subject, message, { ...details, occurrences: recent.length, windowS: windowMs / 1000 })
      : false;
  }

  private now(): number {
    return this.deps.nowMs?.() ?? Date.now();
  }
}
