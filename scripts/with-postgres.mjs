// Runs a command with PARLEY_TEST_PG_URL pointing at a throwaway PostgreSQL cluster on
// 127.0.0.1 (Debian's postgresql package), so the store's tests run on PostgreSQL too.
// Usage: node scripts/with-postgres.mjs <command> [args…]   (run as root or as a user that can run initdb)
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort() : [];
if (versions.length === 0) {
  console.error('PostgreSQL is not installed (apt-get install -y postgresql)');
  process.exit(1);
}
const bin = `/usr/lib/postgresql/${versions[versions.length - 1]}/bin`;
const dir = mkdtempSync(join(tmpdir(), 'parley-pg-'));
const port = String(20000 + Math.floor(Math.random() * 20000));
const asRoot = process.getuid?.() === 0;
if (asRoot) execFileSync('chown', ['postgres', dir]); // initdb refuses to run as root
const pgRun = (cmd, args) => asRoot
  ? execFileSync('su', ['postgres', '-c', [join(bin, cmd), ...args].map((a) => `'${a}'`).join(' ')], { stdio: 'inherit' })
  : execFileSync(join(bin, cmd), args, { stdio: 'inherit' });

let code = 1;
try {
  pgRun('initdb', ['-D', dir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  pgRun('pg_ctl', ['-D', dir, '-o', `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start']);
  const [cmd, ...args] = process.argv.slice(2);
  const result = spawnSync(join('node_modules', '.bin', cmd), args, {
    stdio: 'inherit', env: { ...process.env, PARLEY_TEST_PG_URL: `postgres://postgres@127.0.0.1:${port}/postgres` },
  });
  code = result.status ?? 1;
} finally {
  try { pgRun('pg_ctl', ['-D', dir, '-m', 'immediate', 'stop']); } catch { /* already down */ }
  rmSync(dir, { recursive: true, force: true });
}
process.exit(code);
