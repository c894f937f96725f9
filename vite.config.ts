// Builds the meeting room (src/web) into dist/web, which the server serves: dist/web/index.html
// is the page template (its <!--PARLEY_BOOTSTRAP--> comment is replaced per link) and the
// hashed files in dist/web/room-assets/ are served at /room-assets/. After it, a second small
// build makes dist/web/parley-embed.js (served at /parley-embed.js) from
// src/web/embed/parley-embed.ts: one classic script (IIFE, global `Parley`), ES2019, for
// integrators' pages. A third build makes the operator console (see operatorConsole below).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { build, defineConfig, type Plugin } from 'vite';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));

function embedScript(): Plugin {
  return {
    name: 'parley-embed-script',
    apply: 'build',
    async closeBundle(error?: Error) {
      if (error) return;
      const entry = here('./src/web/embed/parley-embed.ts');
      // Its documentation (the source's opening comment) stays at the top of the built file.
      const banner = /^\/\*![\s\S]*?\*\//.exec(readFileSync(entry, 'utf8'))?.[0] ?? '';
      await build({
        configFile: false,
        logLevel: 'warn',
        publicDir: false,
        build: {
          outDir: here('./dist/web'),
          emptyOutDir: false,
          copyPublicDir: false,
          target: 'es2019',
          minify: true,
          sourcemap: false,
          rolldownOptions: { output: { postBanner: banner } },
          lib: {
            entry,
            formats: ['iife'],
            name: 'Parley',
            fileName: () => 'parley-embed.js',
          },
        },
      });
    },
  };
}

// The operator console (src/console) is its own page: built after the room into dist/console,
// served by the server at /admin (index.html) and /admin/assets/* (src/api/console/app.ts).
function operatorConsole(): Plugin {
  return {
    name: 'parley-operator-console',
    apply: 'build',
    async closeBundle(error?: Error) {
      if (error) return;
      await build({
        configFile: false,
        logLevel: 'warn',
        root: here('./src/console'),
        base: '/admin/',
        publicDir: false,
        oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
        build: {
          outDir: here('./dist/console'),
          emptyOutDir: true,
          assetsDir: 'assets',
          assetsInlineLimit: 0,
          modulePreload: { polyfill: false },
          sourcemap: false,
        },
      });
    },
  };
}

export default defineConfig({
  root: here('./src/web'),
  // Public URLs are base + assetsDir + file. With base '/' and assetsDir 'room-assets' the page
  // asks for /room-assets/<file> and the file is dist/web/room-assets/<file>, which is what the
  // server's /room-assets/* route reads. (base '/room-assets/' would give /room-assets/room-assets/….)
  base: '/',
  publicDir: false,
  plugins: [embedScript(), operatorConsole()],
  // Vite 8 transforms TS/JSX with Oxc: automatic JSX runtime from preact (preact/jsx-runtime).
  oxc: {
    jsx: { runtime: 'automatic', importSource: 'preact' },
  },
  build: {
    outDir: here('./dist/web'),
    emptyOutDir: true,
    // The room supports Safari and iOS 16+ (docs/room.md): Vite's default baseline starts at 16.4.
    target: ['es2022', 'chrome111', 'edge111', 'firefox114', 'safari16', 'ios16'],
    assetsDir: 'room-assets',
    // One small stylesheet: keep it a file (the page's CSP allows 'self' styles).
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    sourcemap: false,
  },
});
