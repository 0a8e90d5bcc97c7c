/**
 * Timing settings of the worker's features, with production defaults. They are injected (the
 * worker context, then each feature's deps), never module-level state: tests and benchmarks pass
 * shorter windows to the bot they start instead of patching globals (docs/architecture.md §12).
 */
export interface Tuning {
  /** How long a card notification waits to gather the tasks falling due together into one digest. */
  notifyDebounceMs: number;
  /** How often a running customer transfer asks WeCom for its results. */
  transferPollEveryMs: number;
  /** When a transfer still waiting in WeCom is given up as expired. */
  transferGiveUpAfterMs: number;
  /** How long advisor-confirmed sends gather into one WeCom mass-send batch. */
  messageBatchWindowMs: number;
  /** The delay before a sent batch's results are first polled. */
  messagePollDelayMs: number;
  /** How long a team code's member-list refreshes gather into one WeCom update (docs/acquisition.md). */
  teamRefreshWindowMs: number;
  /**
   * Lead cards per advisor: at most `leadCardsPerWindow` in any `leadCardWindowMs` (sliding), the
   * rest waits and goes out as one digest (docs/acquisition.md "Cards in a burst").
   */
  leadCardWindowMs: number;
  leadCardsPerWindow: number;
  /**
   * In a burst the waiting leads go out at most this long apart (one digest per gap), so none waits
   * longer; the places this needs in a window are kept from own cards (lead-card-window.ts).
   */
  leadDigestGapMs: number;
}

export const DEFAULT_TUNING: Readonly<Tuning> = Object.freeze({
  notifyDebounceMs: 3000,
  transferPollEveryMs: 3_600_000,
  transferGiveUpAfterMs: 7 * 86_400_000,
  messageBatchWindowMs: 10_000,
  messagePollDelayMs: 600_000,
  teamRefreshWindowMs: 30_000,
  // 20 of WeCom's 30 messages a minute to one member (docs/wecom.md §5): the rest for tasks and escalations.
  leadCardWindowMs: 60_000,
  leadCardsPerWindow: 20,
  // One flush every 3 s: the 20 places of a window all belong to the flush lane (a lone waiting
  // lead still goes as its own card through it), and no lead waits more than 3 s for its turn
  // (docs/acquisition.md "Cards in a burst").
  leadDigestGapMs: 3000,
});

/** The defaults with the given settings over them. */
export function tuningWith(overrides: Partial<Tuning> | undefined): Tuning {
  return { ...DEFAULT_TUNING, ...overrides };
}
