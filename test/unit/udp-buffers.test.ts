// The kernel's side of the media sockets: the drop counter over /proc (against a real socket whose
// thread stops reading, and over a made-up /proc for closed and reused sockets), and the
// operator's warning when net.core.rmem_max caps the buffer the media sockets ask for.
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { kernelReceiveBufferCap, MEDIA_RECEIVE_BUFFER_BYTES, smallReceiveBufferWarning, UdpReceiveDrops } from '../../src/media/udp-buffers.js';

const linux = process.platform === 'linux';

describe('UdpReceiveDrops', () => {
  it.runIf(linux)('counts the datagrams a socket of this process refused while its thread did not read', async () => {
    // A thread that binds a socket with the smallest buffer, says its port, then stops (as a media
    // worker does in a long task) until told to go on.
    const gate = new Int32Array(new SharedArrayBuffer(4));
    const worker = new Worker(`
      const { workerData, parentPort } = require('node:worker_threads');
      const socket = require('node:dgram').createSocket({ type: 'udp4', recvBufferSize: 1 });
      socket.bind(0, '127.0.0.1', () => {
        parentPort.postMessage(socket.address().port);
        Atomics.wait(workerData, 0, 0);
        socket.close(() => parentPort.postMessage('closed'));
      });`, { eval: true, workerData: gate });
    try {
      const port = await new Promise<number>((resolve) => worker.once('message', resolve));
      const drops = new UdpReceiveDrops();
      const before = drops.read()!;
      const sender = createSocket('udp4');
      const payload = Buffer.alloc(1000);
      for (let i = 0; i < 100; i++) await new Promise<void>((r) => sender.send(payload, port, '127.0.0.1', () => r()));
      sender.close();
      const during = drops.read()!;
      expect(during - before).toBeGreaterThan(50);

      const closed = new Promise((resolve) => worker.on('message', (m) => m === 'closed' && resolve(m)));
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await closed;
      expect(drops.read()).toBeGreaterThanOrEqual(during); // a counter: the closed socket's drops stay
    } finally {
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await worker.terminate();
    }
  });

  describe('over a made-up /proc', () => {
    let dir: string;
    afterEach(() => rmSync(dir, { recursive: true, force: true }));

    function proc(sockets: Record<string, number>, ipv6: Record<string, number> = {}): void {
      rmSync(join(dir, 'fd'), { recursive: true, force: true });
      mkdirSync(join(dir, 'fd'), { recursive: true });
      mkdirSync(join(dir, 'net'), { recursive: true });
      let fd = 3;
      for (const inode of [...Object.keys(sockets), ...Object.keys(ipv6)]) symlinkSync(`socket:[${inode}]`, join(dir, 'fd', String(fd++)));
      symlinkSync('/dev/null', join(dir, 'fd', String(fd++)));
      const header = '   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n';
      const line = (inode: string, drops: number) =>
        `  1: 0100007F:9C40 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 ${inode} 2 0000000000000000 ${drops}\n`;
      // Another process's socket (not among our fds) must not count.
      writeFileSync(join(dir, 'net', 'udp'), header + Object.entries(sockets).map(([i, d]) => line(i, d)).join('') + line('999', 1000));
      writeFileSync(join(dir, 'net', 'udp6'), header + Object.entries(ipv6).map(([i, d]) => line(i, d)).join(''));
    }

    it('adds IPv4 and IPv6 sockets, keeps a closed socket’s drops, and starts a reused inode from 0', () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-proc-'));
      const drops = new UdpReceiveDrops(dir);
      proc({ 11: 5, 12: 3 }, { 13: 2 });
      expect(drops.read()).toBe(10);
      proc({ 12: 4 }, { 13: 2 }); // 11 closed with its 5
      expect(drops.read()).toBe(11);
      proc({ 12: 0 }, { 13: 2 }); // 12 closed and its number given to a new socket
      expect(drops.read()).toBe(11);
      proc({ 12: 1 }, {});
      expect(drops.read()).toBe(12);
    });

    it('reads IPv4 alone on a kernel without IPv6', () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-proc-'));
      proc({ 11: 5 });
      rmSync(join(dir, 'net', 'udp6'));
      expect(new UdpReceiveDrops(dir).read()).toBe(5);
    });

    it('says nothing where /proc cannot tell', () => {
      dir = mkdtempSync(join(tmpdir(), 'parley-proc-'));
      expect(new UdpReceiveDrops(join(dir, 'missing')).read()).toBeUndefined();
    });
  });
});

describe('the receive buffer the media sockets ask for', () => {
  it('warns the operator only when net.core.rmem_max is below it', () => {
    expect(smallReceiveBufferWarning(undefined)).toBeUndefined();
    expect(smallReceiveBufferWarning(MEDIA_RECEIVE_BUFFER_BYTES)).toBeUndefined();
    expect(smallReceiveBufferWarning(8 * MEDIA_RECEIVE_BUFFER_BYTES)).toBeUndefined();
    const warning = smallReceiveBufferWarning(212_992);
    expect(warning).toContain('net.core.rmem_max is 212992 bytes');
    expect(warning).toContain(`sysctl -w net.core.rmem_max=${MEDIA_RECEIVE_BUFFER_BYTES}`);
  });

  it.runIf(linux)('reads the kernel’s cap', () => {
    expect(kernelReceiveBufferCap()).toBeGreaterThan(0);
    expect(kernelReceiveBufferCap('/nonexistent')).toBeUndefined();
  });
});
