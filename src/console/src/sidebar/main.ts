import { createApp } from 'vue';
import SidebarApp from './SidebarApp.vue';

/**
 * The chat-toolbar page's own entry (docs/console.md, "Advisor sidebar"): plain Vue, no UI
 * library, no charts, so the first paint on a phone stays small; the WeCom SDK loads lazily.
 */
createApp(SidebarApp).mount('#sidebar');
