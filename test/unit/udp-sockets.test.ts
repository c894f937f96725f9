import dgram from 'node:dgram';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { closeAllUdpSockets } from '../../src/media/worker/udp-sockets.js';

// A worker thread's end: every UDP socket is closed first, and one opened meanwhile (werift still
// gathering) closes as soon as it listens, before a datagram could reach it and abort the process.
it('closes the sockets open at the end, and one opened after as soon as it listens', async () => {
  const before = dgram.createSocket('udp4');
  before.bind(0, '127.0.0.1');
  await once(before, 'listening');
  const closed = once(before, 'close');
  expect(await closeAllUdpSockets()).toBe(1);
  await closed;

  const after = dgram.createSocket('udp4');
  after.bind(0, '127.0.0.1');
  await once(after, 'close');
  expect(() => after.address()).toThrow();
});
