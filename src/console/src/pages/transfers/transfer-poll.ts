/** How the transfers page follows a transfer: every few seconds while WeCom has not decided, bounded. */
export const transferPoll = { everyMs: 3000, maxPolls: 100 };
