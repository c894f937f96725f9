import { spawn, type ChildProcess } from 'node:child_process';

const ROOT = new URL('../..', import.meta.url).pathname;

export interface Spawned {
  child: ChildProcess;
  /** The address it printed ("listening on http://…"). */
  url: string;
  /** Everything it printed so far. */
  output(): string;
}

/**
 * Starts a Node program from the repository root (`parley serve`, the bench baseline…) and
 * resolves once it prints "listening on http://…". `command` defaults to this Node.
 */
export function spawnListening(args: string[], env: NodeJS.ProcessEnv, command: string[] = [process.execPath]): Promise<Spawned> {
  return new Promise((resolve, reject) => {
    const [cmd, ...pre] = command;
    const child = spawn(cmd, [...pre, ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const onData = (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolve({ child, url: m[1], output: () => out });
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`${args.join(' ')} exited ${code}:\n${out}`)));
  });
}

/** Sends `signal` to a spawned program and resolves once it has exited (at once if it has). */
export function stopSpawned(s: Spawned, signal: NodeJS.Signals): Promise<void> {
  return new Promise((resolve) => {
    if (s.child.exitCode !== null || s.child.signalCode !== null) return resolve();
    s.child.removeAllListeners('exit');
    s.child.once('exit', () => resolve());
    s.child.kill(signal);
  });
}
