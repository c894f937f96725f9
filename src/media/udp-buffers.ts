// The kernel's side of the media sockets: how much a socket may queue while its worker is busy,
// and how many datagrams it dropped because the queue was full. Linux (/proc); elsewhere the
// checks say nothing and the count is absent.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/**
 * The receive buffer every media socket asks for. Linux's default (208 KiB) holds ~90 datagrams
 * of 1200 bytes (each costs ~2.3 KB of buffer): half a second of one 1.5 Mbit/s camera, less for a
 * simulcast publisher; a worker that stalls longer (a saturated machine, a long GC) dropped
 * datagrams there (40 in one 1 → 50 run of bench:sfu, 2026-12-07). The kernel caps what is asked
 * at net.core.rmem_max; it charges only what is queued.
 */
export const MEDIA_RECEIVE_BUFFER_BYTES = 1024 * 1024;

/** net.core.rmem_max, or undefined where it cannot be read. */
export function kernelReceiveBufferCap(procRoot = '/proc'): number | undefined {
  try {
    const value = Number(readFileSync(`${procRoot}/sys/net/core/rmem_max`, 'utf8').trim());
    return Number.isFinite(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** The operator's hint when the kernel grants media sockets less than they ask for; undefined when it does not. */
export function smallReceiveBufferWarning(cap: number | undefined, wanted = MEDIA_RECEIVE_BUFFER_BYTES): string | undefined {
  if (cap === undefined || cap >= wanted) return undefined;
  return `net.core.rmem_max is ${cap} bytes: media sockets get that much receive buffer instead of the ${wanted} they ask for, `
    + `and a media worker that stalls drops datagrams sooner (parley_media_udp_receive_drops_total counts them). `
    + `Raise it with: sysctl -w net.core.rmem_max=${wanted} (docs/operations.md, "UDP receive buffers")`;
}

/**
 * The `drops` of this process's UDP sockets in /proc/<pid>/net/udp and udp6 (datagrams refused at
 * a full receive buffer), kept as a counter that never goes down: a socket's drops stay counted
 * after it closes, up to the last reading that saw it open.
 */
export class UdpReceiveDrops {
  private readonly last = new Map<string, number>();
  private ofClosed = 0;

  /** `proc`: /proc/self, or /proc/<pid> for another process (its sockets, in its network namespace). */
  constructor(private readonly proc = '/proc/self') {}

  /** Datagrams dropped so far, or undefined where /proc cannot tell. */
  read(): number | undefined {
    let inodes: Set<string>;
    let lines: string[];
    try {
      inodes = this.socketInodes();
      lines = readFileSync(`${this.proc}/net/udp`, 'utf8').split('\n').slice(1);
    } catch {
      return undefined;
    }
    try {
      lines.push(...readFileSync(`${this.proc}/net/udp6`, 'utf8').split('\n').slice(1));
    } catch {
      // a kernel without IPv6
    }
    const now = new Map<string, number>();
    for (const line of lines) {
      // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
      const cols = line.trim().split(/\s+/);
      if (cols.length >= 13 && inodes.has(cols[9]!)) now.set(cols[9]!, Number(cols[12]));
    }
    // Gone, or its number taken by a new socket (whose count starts again from 0).
    for (const [inode, drops] of this.last) if ((now.get(inode) ?? -1) < drops) this.ofClosed += drops;
    this.last.clear();
    let open = 0;
    for (const [inode, drops] of now) {
      this.last.set(inode, drops);
      open += drops;
    }
    return this.ofClosed + open;
  }

  private socketInodes(): Set<string> {
    const inodes = new Set<string>();
    for (const fd of readdirSync(`${this.proc}/fd`)) {
      try {
        const socket = /^socket:\[(\d+)\]$/.exec(readlinkSync(`${this.proc}/fd/${fd}`));
        if (socket) inodes.add(socket[1]!);
      } catch {
        // closed since the listing
      }
    }
    return inodes;
  }
}
