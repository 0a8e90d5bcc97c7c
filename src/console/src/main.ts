import ElementPlus from 'element-plus';
import 'element-plus/dist/index.css';
import { createPinia } from 'pinia';
import { createApp } from 'vue';
import App from './App.vue';
import { i18n } from './i18n.js';
import { router } from './router.js';

/** The console SPA entry: Pinia for the session, vue-i18n (zh-CN first), Element Plus, vue-router. */
createApp(App).use(createPinia()).use(i18n).use(router).use(ElementPlus).mount('#app');
