import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router';
import type { Role } from './lib/api-types.js';
import { useSession } from './lib/session.js';
import { homeFor } from './lib/nav.js';

declare module 'vue-router' {
  interface RouteMeta {
    /** Roles that may open the page; the API enforces the same roles again on every call. */
    roles?: readonly Role[];
    public?: boolean;
    /** The 404 page: not a navigation target. */
    notFound?: boolean;
  }
}

const routes: RouteRecordRaw[] = [
  // The start page depends on the role (the guard below has loaded the session by then).
  {
    path: '/',
    component: () => import('./pages/NotFound.vue'),
    beforeEnter: () => homeFor(router, useSession().me?.role ?? 'advisor'),
  },
  { path: '/login', component: () => import('./pages/SignIn.vue'), meta: { public: true } },
  {
    path: '/campaigns',
    component: () => import('./pages/campaigns/CampaignsPage.vue'),
    meta: { roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] },
  },
  {
    path: '/campaigns/new',
    component: () => import('./pages/campaigns/CampaignEditPage.vue'),
    meta: { roles: ['admin', 'oem', 'marketing'] },
  },
  {
    // A rule's effectiveness (treated vs held out); the roles that may read GET /api/v1/campaigns/:ruleId/report.
    path: '/campaigns/:id/report',
    component: () => import('./pages/campaigns/CampaignReportPage.vue'),
    props: true,
    meta: { roles: ['admin', 'oem', 'analyst', 'dealer_admin', 'manager'] },
  },
  {
    path: '/campaigns/:id',
    component: () => import('./pages/campaigns/CampaignEditPage.vue'),
    props: true,
    meta: { roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] },
  },
  {
    path: '/content',
    component: () => import('./pages/content/ContentPage.vue'),
    meta: { roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] },
  },
  {
    path: '/m/tasks',
    component: () => import('./pages/m/MyTasks.vue'),
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] },
  },
  {
    path: '/m/tasks/:id',
    component: () => import('./pages/m/TaskDetail.vue'),
    props: true,
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] },
  },
  {
    path: '/settings/:corpId?',
    component: () => import('./pages/settings/SettingsPage.vue'),
    props: true,
    meta: { roles: ['admin', 'dealer_admin'] },
  },
  {
    path: '/cockpit',
    component: () => import('./pages/cockpit/CockpitPage.vue'),
    meta: { roles: ['admin', 'oem', 'analyst', 'dealer_admin', 'manager'] },
  },
  {
    path: '/tasks',
    component: () => import('./pages/tasks/TasksPage.vue'),
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'manager', 'advisor'] },
  },
  {
    path: '/customers',
    component: () => import('./pages/customers/CustomersPage.vue'),
    meta: { roles: ['admin', 'dealer_admin', 'manager', 'advisor'] },
  },
  {
    path: '/customers/:id',
    component: () => import('./pages/customers/CustomerProfile.vue'),
    props: true,
    meta: { roles: ['admin', 'dealer_admin', 'manager', 'advisor'] },
  },
  {
    path: '/transfers',
    component: () => import('./pages/transfers/TransfersPage.vue'),
    meta: { roles: ['admin', 'dealer_admin', 'manager'] },
  },
  {
    path: '/channels',
    component: () => import('./pages/acquisition/ChannelsPage.vue'),
    meta: { roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] },
  },
  {
    path: '/leads',
    component: () => import('./pages/acquisition/LeadBoard.vue'),
    meta: { roles: ['admin', 'oem', 'marketing', 'dealer_admin', 'manager'] },
  },
  {
    path: '/m/leads',
    component: () => import('./pages/m/MyLeads.vue'),
    meta: { roles: ['manager', 'advisor'] },
  },
  {
    path: '/groups',
    component: () => import('./pages/engagement/GroupsPage.vue'),
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] },
  },
  {
    // Readers as GET /api/v1/group-welcome-templates; the page offers editing to the API's writers only.
    path: '/group-welcome',
    component: () => import('./pages/engagement/GroupWelcomePage.vue'),
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] },
  },
  {
    path: '/broadcasts',
    component: () => import('./pages/engagement/BroadcastsPage.vue'),
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] },
  },
  {
    path: '/moments',
    component: () => import('./pages/engagement/MomentsPage.vue'),
    meta: { roles: ['admin', 'oem', 'dealer_admin', 'marketing', 'manager'] },
  },
  { path: '/:rest(.*)*', component: () => import('./pages/NotFound.vue'), meta: { notFound: true } },
];

/** History routing under /console/; unauthenticated visits go to sign-in and come back after. */
export const router = createRouter({ history: createWebHistory('/console/'), routes });

router.beforeEach(async (to) => {
  const session = useSession();
  if (!session.loaded) await session.load();
  if (to.meta.public) return true;
  const me = session.me;
  if (!me) return { path: '/login', query: { next: `/console${to.fullPath}` } };
  if (to.meta.roles && !to.meta.roles.includes(me.role)) return homeFor(router, me.role);
  return true;
});
