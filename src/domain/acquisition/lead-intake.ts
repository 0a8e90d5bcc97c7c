import { corpTaskSettings } from '../tasks/task-queries.js';
import type { Clock } from '../../infra/clock.js';
import type { Logger } from '../../infra/logger.js';
import type { FieldProblem } from '../../infra/errors.js';
import { problemsOf } from '../../infra/validation.js';
import type { Queues } from '../../queues/queue-factory.js';
import type { PersonalData } from '../customers/personal-data.js';
import type { TaskSettings } from '../tasks/task-settings.js';
import { cachedAcquisitionSettings } from './acquisition-settings.js';
import { ingestBatch, type Arrival, type BatchItemResult } from './lead-intake-batch.js';
import { leadInputSchema } from './lead-input.js';

/** What intake needs for one corp (the API, the CSV import and a platform webhook build it alike). */
export interface LeadIntakeDeps {
  pd: PersonalData;
  queues: Queues;
  clock: Clock;
  timeZone: string;
  workingHours: TaskSettings['workingHours'];
  logger?: Logger;
}

/** The intake's dependencies for one dealer corp: its time zone and working hours from its task settings. */
export async function leadIntakeDepsFor(
  parts: Pick<LeadIntakeDeps, 'pd' | 'queues' | 'clock'> & { defaultTimezone: string },
  corpId: string,
): Promise<LeadIntakeDeps> {
  const { timeZone, settings } = await corpTaskSettings(corpId, parts.defaultTimezone);
  return { pd: parts.pd, queues: parts.queues, clock: parts.clock, timeZone, workingHours: settings.workingHours };
}

/** Per-item answers summed up, as the API and the webhook answer them. */
export function summarizeLeadResults(results: readonly LeadItemResult[]): {
  created: number;
  merged: number;
  rejected: number;
} {
  const count = (s: LeadItemResult['status']) => results.filter((r) => r.status === s).length;
  return { created: count('created'), merged: count('merged'), rejected: count('rejected') };
}

export type LeadItemResult =
  | { index: number; status: 'created'; leadId: string; advisorUserid: string | null; routeAt: string | null }
  | { index: number; status: 'merged'; leadId: string; repeatCount: number }
  | { index: number; status: 'rejected'; problems: FieldProblem[] };

/** `actor`: who brought the leads (`api:<token>`, `import:<file>`, `webhook:<platform>`). */
export interface IngestOptions {
  actor: string;
  /** JSON-pointer prefix per item for problems (`/leads/3`). */
  pointer?: (index: number) => string;
}

/**
 * The one intake of leads (docs/acquisition.md "Intake"): the API, the CSV import and a signed
 * platform webhook all call this. Each item is validated on its own (a bad one is rejected with
 * its problems, the others go on); a duplicate (same platform id, or the same mobile within the
 * corp's window, also inside one batch) merges into the existing lead as repeat interest; a new
 * lead is sealed, routed and its advisor's card queued at once. Items of concurrent calls for the
 * same corp are applied together, one batch at a time (`ingestBatch`), so a burst costs a few
 * MongoDB round trips per batch instead of several per lead.
 */
export async function ingestLeads(
  deps: LeadIntakeDeps,
  corpId: string,
  items: readonly unknown[],
  opts: IngestOptions,
): Promise<LeadItemResult[]> {
  const results: Array<LeadItemResult | Promise<LeadItemResult>> = [];
  for (const [index, raw] of items.entries()) {
    const parsed = leadInputSchema.safeParse(raw);
    if (!parsed.success) {
      results.push({ index, status: 'rejected', problems: problemsOf(parsed.error, opts.pointer?.(index) ?? '') });
      continue;
    }
    const input = parsed.data;
    const arrival: Arrival = {
      input,
      actor: opts.actor,
      mobileHash: input.mobile ? deps.pd.hash('mobile', input.mobile) : undefined,
      sourceKey: input.sourceId ? `${corpId}|${input.source}|${input.sourceId}` : undefined,
    };
    results.push(gather(deps, corpId, arrival).then((r) => ({ index, ...r })));
  }
  return Promise.all(results);
}

/** Most items one batch carries: bounds the transaction and the card jobs of one Redis call. */
export const MAX_INTAKE_BATCH = 500;

interface Waiting {
  arrival: Arrival;
  resolve(result: BatchItemResult): void;
  reject(err: unknown): void;
}
interface Stream {
  deps: LeadIntakeDeps;
  corpId: string;
  waiting: Waiting[];
  running: boolean;
}
/** One stream per corp and set of intake dependencies in this process (`streamKey`). */
const streams = new Map<string, Stream>();
const identities = new WeakMap<object, number>();
let nextIdentity = 0;
const identity = (o: object): number => {
  let id = identities.get(o);
  if (id === undefined) identities.set(o, (id = ++nextIdentity));
  return id;
};
/** Calls with the same stores, clock and hours share batches; a request's fresh deps object does not matter. */
const streamKey = (deps: LeadIntakeDeps, corpId: string): string =>
  [
    corpId,
    identity(deps.queues),
    identity(deps.pd),
    identity(deps.clock),
    deps.timeZone,
    JSON.stringify(deps.workingHours),
  ].join('|');

/**
 * Queues an item for its corp's next batch. While a batch is applied the next one gathers, so a
 * burst forms batches by itself and a lone lead goes at once. One batch at a time per corp and
 * process also keeps two duplicates arriving together from both becoming leads.
 */
function gather(deps: LeadIntakeDeps, corpId: string, arrival: Arrival): Promise<BatchItemResult> {
  const key = streamKey(deps, corpId);
  let stream = streams.get(key);
  if (!stream) streams.set(key, (stream = { deps, corpId, waiting: [], running: false }));
  const s = stream;
  return new Promise((resolve, reject) => {
    s.waiting.push({ arrival, resolve, reject });
    if (!s.running) {
      s.running = true;
      // After this turn of the event loop, so the items of one call (and of calls made together) share a batch.
      setImmediate(() => void drainStream(key, s));
    }
  });
}

async function drainStream(key: string, stream: Stream): Promise<void> {
  try {
    while (stream.waiting.length > 0) {
      const batch = stream.waiting.splice(0, MAX_INTAKE_BATCH);
      try {
        const results = await applyBatch(
          stream.deps,
          stream.corpId,
          batch.map((w) => w.arrival),
        );
        batch.forEach((w, i) => w.resolve(results[i] as BatchItemResult));
      } catch (err) {
        for (const w of batch) w.reject(err);
      }
    }
  } finally {
    stream.running = false;
    if (streams.get(key) === stream && stream.waiting.length === 0) streams.delete(key);
  }
}

async function applyBatch(deps: LeadIntakeDeps, corpId: string, arrivals: Arrival[]): Promise<BatchItemResult[]> {
  const settings = await cachedAcquisitionSettings(corpId);
  const ctx = { corpId, timeZone: deps.timeZone, workingHours: deps.workingHours, settings, queues: deps.queues };
  return ingestBatch(deps, ctx, arrivals, deps.clock.now());
}
