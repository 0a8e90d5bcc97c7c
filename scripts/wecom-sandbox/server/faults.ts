import { z } from 'zod';

/** `POST /__sandbox/faults`: the next `count` calls to `endpoint` ('*' = any) misbehave. */
export const faultSchema = z.object({
  endpoint: z.string().min(1),
  corpId: z.string().optional(),
  count: z.number().int().min(1).default(1),
  kind: z.enum(['errcode', 'http', 'delay', 'hang']),
  /** For `errcode`. */
  errcode: z.number().int().optional(),
  errmsg: z.string().optional(),
  /** For `http` (default 503). */
  status: z.number().int().min(400).max(599).optional(),
  /** For `delay`: then the call proceeds normally. */
  delayMs: z.number().int().min(0).max(600_000).optional(),
});

export type FaultSpec = z.output<typeof faultSchema>;

interface Armed extends FaultSpec {
  id: number;
  remaining: number;
}

/** Queued faults, consumed in order of arming. */
export class FaultInjector {
  private armed: Armed[] = [];
  private nextId = 1;

  add(spec: FaultSpec): number {
    const id = this.nextId++;
    this.armed.push({ ...spec, id, remaining: spec.count });
    return id;
  }

  /** Takes one fault for this call, if any is armed. */
  take(endpoint: string, corpId: string | undefined): FaultSpec | undefined {
    const fault = this.armed.find(
      (f) => (f.endpoint === endpoint || f.endpoint === '*') && (!f.corpId || f.corpId === corpId),
    );
    if (!fault) return undefined;
    fault.remaining -= 1;
    if (fault.remaining <= 0) this.armed = this.armed.filter((f) => f !== fault);
    return fault;
  }

  list(): Array<FaultSpec & { id: number; remaining: number }> {
    return this.armed.map((f) => ({ ...f }));
  }

  clear(): void {
    this.armed = [];
  }
}
