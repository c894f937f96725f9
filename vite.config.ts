// Builds the meeting room (src/web) into dist/web, which the server serves: dist/web/index.html
// is the page template (its <!--PARLEY_BOOTSTRAP--> comment is replaced per link) and the
// hashed files in dist/web/room-assets/ are served at /room-assets/.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

export default defineConfig({
  root: here('./src/web'),
  // Public URLs are base + assetsDir + file. With base '/' and assetsDir 'room-assets' the page
  // asks for /room-assets/<file> and the file is dist/web/room-assets/<file>, which is what the
  // server's /room-assets/* route reads. (base '/room-assets/' would give /room-assets/room-assets/….)
  base: '/',
  publicDir: false,
  // Vite 8 transforms TS/JSX with Oxc: automatic JSX runtime from preact (preact/jsx-runtime).
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: here('./dist/web'),
    emptyOutDir: true,
    assetsDir: 'room-assets',
    // One small stylesheet: keep it a file (the page's CSP allows 'self' styles).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
