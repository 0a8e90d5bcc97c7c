import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import type { Role } from './lib/api-types.js';
import { useSession } from './lib/session.js';

declare module 'vue-router' {
  interface RouteMeta {
    /** Roles that may open the page; the API enforces the same roles again on every call. */
    roles?: readonly Role[];
    public?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  { path: '/', redirect: '/campaigns' },
  { path: '/login', component: () => import('./pages/SignIn.vue'), meta: { public: true } },
  { path: '/campaigns', component: () => import('./pages/CampaignsPage.vue'), meta: { roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] } },
  { path: '/m/tasks', component: () => import('./pages/m/MyTasks.vue'), meta: { roles: ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] } },
  { path: '/m/tasks/:id', component: () => import('./pages/m/TaskDetail.vue'), props: true, meta: { roles: ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] } },
  { path: '/:rest(.*)*', redirect: '/' },
];

/** History routing under /console/; unauthenticated visits go to sign-in and come back after. */
export const router = createRouter({ history: createWebHistory('/console/'), routes });

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.loaded) await session.load();
  if (to.meta.public) return true;
  const me = session.me;
  if (!me) return { path: '/login', query: { next: `/console${to.fullPath}` } };
  if (to.meta.roles && !to.meta.roles.includes(me.role)) return me.role === 'advisor' ? '/m/tasks' : '/campaigns';
  return true;
});
