import { describe, expect, it } from 'vitest';
import { ICE_RESTART_LIMIT, RestartBudget, seatReconnecting } from '../../src/core/index.js';
import { parseClientMessage, ProtocolError } from '../../src/protocol/parse.js';

describe('a seat shown as reconnecting (core rule)', () => {
  it('while its socket is away or a media transport is silent or failed; not while joining', () => {
    expect(seatReconnecting({ socket: true, transports: ['connected', 'connected'] })).toBe(false);
    expect(seatReconnecting({ socket: true, transports: [undefined, undefined] })).toBe(false);
    expect(seatReconnecting({ socket: false, transports: ['connected', 'connected'] })).toBe(true);
    expect(seatReconnecting({ socket: true, transports: ['connected', 'disconnected'] })).toBe(true);
    expect(seatReconnecting({ socket: true, transports: ['failed', undefined] })).toBe(true);
  });

  it('ICE restarts have a budget of their own', () => {
    const budget = new RestartBudget(ICE_RESTART_LIMIT);
    for (let i = 0; i < ICE_RESTART_LIMIT.count; i++) expect(budget.take(1_000 + i)).toBe(true);
    expect(budget.take(2_000)).toBe(false);
    expect(budget.take(1_000 + ICE_RESTART_LIMIT.windowMs + 1)).toBe(true);
  });

  it('restartIce is a message browsers may send, with nothing else in it', () => {
    expect(parseClientMessage('{"type":"restartIce","extra":1}')).toEqual({ type: 'restartIce' });
    expect(() => parseClientMessage('{"type":"restartIceNow"}')).toThrow(ProtocolError);
  });
});
