import { onRuleWrite } from '../rule.model.js';
import { inActiveWindow, loadEnabledRules, type ActiveRule } from './rule-finder.js';

/**
 * The welcome lane's view of a corp's welcome rules (docs/architecture.md §5: welcome rules run on "what the
 * add event and cached data tell"). At a campaign's peak every add needs them, and the 20 s window
 * leaves no room for a MongoDB round trip per add behind a busy database, so they are held in
 * memory. A rule write in any process clears them through the change notices
 * (src/infra/change-notices.ts); `ttlMs` (default 60 s) bounds their age when a notice is lost.
 * Concurrent misses share one load.
 */
export class WelcomeRuleCache {
  private readonly entries = new Map<string, { loadedAt: number; rules: Promise<ActiveRule[]> }>();
  private readonly unsubscribe: () => void;

  constructor(
    private readonly ttlMs = 60_000,
    private readonly monotonicMs: () => number = () => performance.now(),
  ) {
    this.unsubscribe = onRuleWrite(() => this.entries.clear());
  }

  /** The corp's enabled welcome rules inside their active window at `now`, highest priority first. */
  async activeWelcomeRules(corpId: string, now: Date): Promise<ActiveRule[]> {
    const t = this.monotonicMs();
    let entry = this.entries.get(corpId);
    if (!entry || t - entry.loadedAt >= this.ttlMs) {
      entry = { loadedAt: t, rules: loadEnabledRules(corpId, 'customer.added', { welcomeOnly: true }) };
      this.entries.set(corpId, entry);
      // A failed load is not cached: the next add tries again.
      entry.rules.catch(() => {
        if (this.entries.get(corpId) === entry) this.entries.delete(corpId);
      });
    }
    return (await entry.rules).filter((r) => inActiveWindow(r.body, now));
  }

  close(): void {
    this.unsubscribe();
    this.entries.clear();
  }
}
