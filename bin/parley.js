#!/usr/bin/env node
// The CLI runs the compiled code: `npm start` / `npm run build` produce dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = fileURLToPath(new URL('../dist/cli/main.js', import.meta.url));
if (!existsSync(entry)) {
  console.error('Parley is not built yet: run `npm run build` (or `npm start`, which builds first).');
  process.exit(1);
}
await import(entry);
