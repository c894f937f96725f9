// Parley under bench/sfu.ts: the built `parley serve` in a child process with one media worker,
// meetings made through the native API, bots joining by their personal links like a browser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeetingBot, personalLink, type BotHost } from '../../test/helpers/meeting-bot.js';
import { spawnListening, stopSpawned } from '../../test/helpers/spawn.js';
import type { Plan, Target } from './bots.js';

export interface ParleyTarget extends Target {
  stop(): Promise<void>;
}

/** `nodeArgs` go before the script (e.g. --cpu-prof, whose files are written on a clean exit). */
export async function startParley(ip: string, nodeArgs: string[] = []): Promise<ParleyTarget> {
  const dataDir = mkdtempSync(join(tmpdir(), 'parley-bench-sfu-'));
  const server = await spawnListening(['bin/parley.js', 'serve'], {
    DATA_DIR: dataDir, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn',
    MEDIA_WORKERS: '1', RTC_LISTEN_IP: ip, ANNOUNCED_IP: ip, RATE_LIMIT_PER_MINUTE: '0',
  }, [process.execPath, ...nodeArgs]);
  const token = /Bearer:\s+(\S+)/.exec(server.output())?.[1];
  if (!token) throw new Error(`no API token in parley's banner:\n${server.output()}`);
  const api = async <T>(path: string, body: unknown): Promise<T> => {
    const res = await fetch(`${server.url}/api/v1${path}`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body),
    });
    if (!res.ok) throw new Error(`POST ${path}: ${res.status} ${await res.text()}`);
    return (await res.json()) as T;
  };
  let meetings = 0;
  return {
    name: 'parley',
    pid: server.child.pid!,
    async join(host: BotHost, plan: Plan) {
      const newMeeting = async () => (await api<{ id: string }>('/meetings', { title: `bench ${++meetings}` })).id;
      // Everyone in a Parley meeting receives everyone: publishers nobody should receive each
      // get a meeting of their own (all on the one media worker).
      const alone = plan.subscribers.length === 0;
      const ids: string[] = alone ? [] : [await newMeeting()];
      const bots: MeetingBot[] = [];
      for (const name of [...new Set([...plan.publishers, ...plan.subscribers])]) {
        if (alone) ids.push(await newMeeting());
        const p = await api<{ joinUrl: string }>(`/meetings/${ids.at(-1)!}/participants`, { name, externalId: name, role: 'participant' });
        const sends = plan.publishers.includes(name);
        bots.push(await MeetingBot.join(host, server.url, name, personalLink(p.joinUrl), { audio: sends, video: sends }));
      }
      return {
        async close() {
          for (const b of bots) await b.stop();
          for (const id of ids) await api(`/meetings/${id}/end`, {}).catch(() => undefined);
        },
      };
    },
    async stop() {
      await stopSpawned(server, 'SIGTERM');
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
