import { defineStore } from 'pinia';
import { ApiError, api, setCsrfToken } from './api.js';
import type { Me } from './api-types.js';

/** Who is signed in (Pinia): loaded once from /console/auth/me; the cookie itself stays httpOnly. */
export const useSession = defineStore('session', {
  state: () => ({ me: undefined as Me | undefined, loaded: false }),
  getters: {
    /** The member's directory name, else their userid (docs/console.md, "The header"). */
    displayName: (s): string => s.me?.name || s.me?.userid || '',
    /** A corp's display name for people; its id when /me does not name it (older server, unknown corp). */
    corpName:
      (s) =>
      (corpId: string): string =>
        s.me?.corpNames?.[corpId] || corpId,
  },
  actions: {
    async load(): Promise<Me | undefined> {
      try {
        this.set(await api.me());
      } catch (err) {
        if (!(err instanceof ApiError) || err.status !== 401) throw err;
        this.me = undefined;
      }
      this.loaded = true;
      return this.me;
    },
    set(me: Me): void {
      this.me = me;
      this.loaded = true;
      setCsrfToken(me.csrfToken);
    },
    async logout(): Promise<void> {
      await api.logout();
      this.me = undefined;
      setCsrfToken('');
    },
  },
});
