import { fileURLToPath } from 'node:url';
import vue from '@vitejs/plugin-vue';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

/**
 * The console SPA (docs/console.md): served by the web process under /console/, built into
 * dist/console next to the compiled server. Hashed file names let the server cache assets for a year.
 */
export default defineConfig({
  root: here,
  base: '/console/',
  plugins: [vue()],
  build: {
    outDir: fileURLToPath(new URL('../../dist/console', import.meta.url)),
    emptyOutDir: true,
    chunkSizeWarningLimit: 2048,
    // Two pages: the console, and the chat sidebar with its own small bundle (docs/console.md).
    rollupOptions: {
      input: {
        main: fileURLToPath(new URL('./index.html', import.meta.url)),
        sidebar: fileURLToPath(new URL('./sidebar.html', import.meta.url)),
      },
    },
  },
  server: { proxy: { '/api': 'http://127.0.0.1:3000', '/console/auth': 'http://127.0.0.1:3000' } },
});
