import dgram from 'node:dgram';
import dns from 'node:dns';
import { isIP } from 'node:net';
import { syncBuiltinESMExports } from 'node:module';
import { MEDIA_RECEIVE_BUFFER_BYTES } from '../udp-buffers.js';

/**
 * Every UDP socket this worker thread opens (werift's, through `dgram.createSocket`, each with a
 * larger receive buffer), so that all of them can be closed before the thread is terminated.
 * Node 20 aborts the whole process
 * ("FATAL ERROR: v8::FromJust Maybe value is Nothing" in UDPWrap::OnRecv) when a datagram
 * arrives on an open socket of a worker that is being terminated; werift does not always close
 * every socket it gathered (ICE restarts, closed transports), so we do it ourselves.
 */
const open = new Set<dgram.Socket>();
const createSocket = dgram.createSocket;
/**
 * Set once the sockets are being closed for the thread's end: a socket werift opens after that
 * (a gathering or a transport already under way) is closed as soon as it listens, before a
 * datagram can reach it.
 */
let ending = false;

// werift is loaded as ESM (its `import` build), which binds `createSocket` by name from "dgram":
// replacing it on the module object is not enough, the named export must be synced too. Without
// the sync no werift socket was ever seen here, none was closed before a thread ended, and a test
// process aborted in about one CI run of two (found 2026-12-06 by listing the thread's handles).
dgram.createSocket = function trackedCreateSocket(this: unknown, ...args: Parameters<typeof dgram.createSocket>) {
  const [typeOrOptions, listener] = args;
  const options = typeof typeOrOptions === 'string' ? { type: typeOrOptions } : typeOrOptions;
  let bound = false;
  const lookup = (address: string, family: unknown, callback: unknown) => literalLookup(bound, address, family, callback);
  // A larger receive buffer than Linux's default: datagrams wait there while the thread is busy.
  const socket = createSocket.call(dgram, { lookup, recvBufferSize: MEDIA_RECEIVE_BUFFER_BYTES, ...options }, listener);
  socket.once('listening', () => (bound = true));
  open.add(socket);
  socket.once('close', () => open.delete(socket));
  if (ending) socket.once('listening', () => socket.close());
  return socket;
} as typeof dgram.createSocket;
syncBuiltinESMExports();

/**
 * `send(data, port, address)` resolves `address` even when it is an IP address, as werift always
 * gives: through `dns.lookup`, which answers an IP address on the next tick, so every datagram
 * sent cost a lookup call, a closure and a tick before its syscall (~1 µs of ~6 per send in a
 * micro-benchmark here). Once the socket is bound, an IP address is answered at once, the way a
 * connected socket skips the lookup. Not before: `bind` would then emit 'listening' before it
 * returns, and werift waits for that event after calling it. A host name goes to `dns.lookup`.
 */
function literalLookup(bound: boolean, address: string, family: unknown, callback: unknown): void {
  const family4or6 = isIP(address);
  if (family4or6 === 0 || !bound) {
    (dns.lookup as (...args: unknown[]) => void)(address, family, callback);
    return;
  }
  (callback as (error: null, address: string, family: number) => void)(null, address, family4or6);
}

/** Takes a datagram before the socket's 'message' listeners; true when it was handled. */
export type DatagramInterceptor = (data: Buffer, rinfo: dgram.RemoteInfo) => boolean;
const INTERCEPTOR = Symbol('parley.datagram-interceptor');
type InterceptedSocket = dgram.Socket & { [INTERCEPTOR]?: DatagramInterceptor };

/**
 * Gives `socket`'s datagrams to `interceptor` first (replacing an earlier one): what it handles,
 * the 'message' listeners (werift's) never see. For werift-receive-path.ts.
 */
export function interceptDatagrams(socket: dgram.Socket, interceptor: DatagramInterceptor): void {
  const s = socket as InterceptedSocket;
  const wrapped = s[INTERCEPTOR] !== undefined;
  s[INTERCEPTOR] = interceptor;
  if (wrapped) return;
  const emit = s.emit;
  s.emit = function (this: InterceptedSocket, event: string | symbol, ...args: unknown[]): boolean {
    if (event === 'message' && this[INTERCEPTOR]!(args[0] as Buffer, args[1] as dgram.RemoteInfo)) return true;
    return (emit as (...a: unknown[]) => boolean).call(this, event, ...args);
  } as typeof s.emit;
}

/** Closes every UDP socket still open in this thread, and any opened later (resolves once each open now has closed). */
export async function closeAllUdpSockets(): Promise<number> {
  ending = true;
  const sockets = [...open];
  await Promise.all(sockets.map((socket) => new Promise<void>((resolve) => {
    socket.once('close', () => resolve());
    try {
      socket.close();
    } catch {
      resolve(); // already closed
    }
  })));
  return sockets.length;
}
