// What this process has open on the network, read from Linux /proc (worker threads included).
import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * Local ports of this process's UDP sockets, the media workers' included (Linux /proc). werift's
 * mDNS client would show up here as port 5353.
 */
export function udpPortsOfThisProcess(): Set<number> {
  const inodes = new Set<string>();
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) inodes.add(m[1]!);
    } catch {
      // closed meanwhile
    }
  }
  const ports = new Set<number>();
  for (const file of ['/proc/self/net/udp', '/proc/self/net/udp6']) {
    if (!existsSync(file)) continue; // no IPv6
    // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length > 9 && inodes.has(f[9]!)) ports.add(parseInt(f[1]!.split(':')[1]!, 16));
    }
  }
  return ports;
}
