// Vite builds two pages into dist/: the app (index.html, served at /app) and
// the playground (playground.html, served at / by the gateway). Both load
// their assets from /app/assets/, which the gateway serves from the embedded
// bundle, so nothing comes from a CDN.
import { defineConfig } from 'vite';
import { persistedDocuments } from './scripts/persisted.mjs';

export default defineConfig({
  base: '/app/',
  plugins: [persistedDocuments()],
  // The app is Preact; the playground (GraphiQL, React) uses no JSX.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // The gateway serves assets by content hash; no polyfill for module
    // preloading is needed by the browsers the app supports.
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4096,
    rollupOptions: {
      input: { app: 'index.html', playground: 'playground.html' },
      // GraphiQL's dependencies mark modules "use client" (React Server
      // Components), which means nothing in a browser bundle.
      onwarn(w, warn) {
        if (w.code !== 'MODULE_LEVEL_DIRECTIVE') warn(w);
      },
    },
  },
});
