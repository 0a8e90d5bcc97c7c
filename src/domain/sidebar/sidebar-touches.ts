import type { Types } from 'mongoose';

/** One line of the sidebar's "last touches" list: ids, codes and dates, no message text. */
export interface SidebarTouch {
  kind: string;
  at: Date;
  /** A code the page translates (`message.sent`, `task.done` ...). */
  what: string;
  /** The result code, when there is one (`appointment_booked`, `failed` ...). */
  result?: string;
  /** Who did it (a WeCom userid), when known. */
  by?: string;
}

export type TouchLoader = (corpId: string, customerId: Types.ObjectId, limit: number) => Promise<SidebarTouch[]>;

const loaders = new Map<string, TouchLoader>();

/**
 * Sources of "last touches and results" beyond messages and tasks (DMS outcomes, leads, ...):
 * a feature that owns such records registers one loader here at import time; the sidebar merges
 * whatever is registered (docs/console.md, "Advisor sidebar"). A loader that fails is skipped.
 */
export function registerTouchSource(name: string, loader: TouchLoader): void {
  loaders.set(name, loader);
}

export function touchSources(): ReadonlyMap<string, TouchLoader> {
  return loaders;
}
