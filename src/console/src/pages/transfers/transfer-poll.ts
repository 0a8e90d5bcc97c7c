/** How the transfers page follows a transfer: every few seconds while WeCom has not decided, bounded. */
export interface TransferPoll {
  everyMs: number;
  maxPolls: number;
}

/** The page's default (a test mounts the page with a faster `poll` prop instead). */
export const DEFAULT_TRANSFER_POLL: Readonly<TransferPoll> = Object.freeze({ everyMs: 3000, maxPolls: 100 });
