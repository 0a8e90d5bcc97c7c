/** One WeCom API call as the sandbox saw it (fake data, so params are kept in full). */
export interface CallLogEntry {
  seq: number;
  /** Sandbox clock (follows the shared offset). */
  at: string;
  atMs: number;
  endpoint: string;
  method: string;
  corpId?: string;
  /** Query without access_token / corpsecret. */
  query: Record<string, string>;
  body?: unknown;
  errcode?: number;
  httpStatus: number;
  fault?: string;
  durationMs: number;
}

export interface CallLogFilter {
  endpoint?: string;
  corpId?: string;
  /** Entries with `seq > since`. */
  since?: number;
  errcode?: number;
}

/** The call log behind `GET /__sandbox/calls` (bounded; oldest entries drop first). */
export class CallLog {
  private entries: CallLogEntry[] = [];
  private seq = 0;

  constructor(private readonly max = 50_000) {}

  add(entry: Omit<CallLogEntry, 'seq'>): CallLogEntry {
    const full = { ...entry, seq: ++this.seq };
    this.entries.push(full);
    if (this.entries.length > this.max) this.entries.splice(0, this.entries.length - this.max);
    return full;
  }

  list(filter: CallLogFilter = {}): CallLogEntry[] {
    return this.entries.filter(
      (e) =>
        (filter.endpoint === undefined || e.endpoint === filter.endpoint) &&
        (filter.corpId === undefined || e.corpId === filter.corpId) &&
        (filter.since === undefined || e.seq > filter.since) &&
        (filter.errcode === undefined || e.errcode === filter.errcode),
    );
  }

  get lastSeq(): number {
    return this.seq;
  }

  clear(): void {
    this.entries = [];
  }
}
