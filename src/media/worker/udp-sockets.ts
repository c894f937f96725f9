import dgram from 'node:dgram';
import { syncBuiltinESMExports } from 'node:module';

/**
 * Every UDP socket this worker thread opens (werift's, through `dgram.createSocket`), so that all
 * of them can be closed before the thread is terminated. Node 20 aborts the whole process
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
  const socket = createSocket.apply(dgram, args);
  open.add(socket);
  socket.once('close', () => open.delete(socket));
  if (ending) socket.once('listening', () => socket.close());
  return socket;
} as typeof dgram.createSocket;
syncBuiltinESMExports();

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
