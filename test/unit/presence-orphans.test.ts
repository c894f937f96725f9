import { describe, expect, it } from 'vitest';
import type { MeetingService } from '../../src/core/meetings.js';
import type { ParticipantService } from '../../src/core/participants.js';
import { PresenceService } from '../../src/core/presence.js';
import type { Store } from '../../src/store/index.js';

// The rejoin race after a node's loss: the sweep found the meeting orphaned (its node dead), but
// its pages have meanwhile joined again on another live node. Their statuses are that node's now:
// the sweep must not mark them as gone.

/** A store with one live meeting and one connected person; records every status change asked for. */
function fakes() {
  const changes: string[] = [];
  const store = {
    meetings: { listLive: async () => [{ id: 'm1' }], get: async () => ({ id: 'm1' }) },
    participants: {
      listConnected: async () => [{ id: 'p1', meetingId: 'm1', role: 'participant' }],
      findById: async () => ({ id: 'p1', meetingId: 'm1', role: 'participant' }),
      countConnected: async () => 0,
    },
  } as unknown as Store; // only what settleOrphans reaches
  const participants = { apply: async (p: { id: string }, change: string) => { changes.push(`${p.id} ${change}`); return p; } } as unknown as ParticipantService;
  const meetings = { apply: async (m: unknown) => m } as unknown as MeetingService;
  return { presence: new PresenceService(store, meetings, participants), changes };
}

describe('settling a dead node’s meetings', () => {
  it('marks its people as gone while nobody else runs the meeting', async () => {
    const { presence, changes } = fakes();
    await presence.settleOrphans(async (ids) => ids, 60_000, async (ids) => ids);
    presence.stop();
    expect(changes).toEqual(['p1 left']);
  });

  it('leaves them alone once the meeting runs on another live node (they joined again there)', async () => {
    const { presence, changes } = fakes();
    await presence.settleOrphans(async (ids) => ids, 60_000, async () => []);
    presence.stop();
    expect(changes).toEqual([]);
  });
});
