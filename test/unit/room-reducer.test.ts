// Type-checked by tsconfig.web.json (with the room's code), not tsconfig.check.json.
import { describe, expect, it } from 'vitest';
import type { ParticipantInfo, Permissions, RoomBootstrap, ServerMessage } from '../../src/protocol/messages.ts';
import { reduceRoom } from '../../src/web/room-reducer.ts';
import type { AppState } from '../../src/web/state.ts';

const person = (id: string, name: string, extra: Partial<ParticipantInfo> = {}): ParticipantInfo => ({
  id, name, role: 'participant', audioMuted: false, videoMuted: false, screenSharing: false, handRaised: false, ...extra,
});

const allowed: Permissions = {
  publishAudio: true, publishVideo: true, shareScreen: true, chat: true, moderate: false, record: false, startAudioMuted: false, startVideoOff: false,
};

const bootstrap: RoomBootstrap = { link: { kind: 'public', code: 'abcd1234' }, meeting: { title: 'Planning' }, needsName: true, embedded: false };

function state(patch: Partial<AppState> = {}): AppState {
  return {
    phase: 'room', bootstrap, title: 'Planning', waiting: [], self: person('me', 'Me'), others: [], permissions: allowed,
    remote: new Map(), activeSpeaker: null, featured: null, view: 'grid', pausedVideos: {}, recording: false, chat: [], unreadChat: 0, panel: null, toasts: [], announcement: '', audioBlocked: false,
    local: { micOn: true, camOn: true, audioInputs: [], videoInputs: [], starting: false, canShareScreen: true },
    ...patch,
  };
}

describe('reduceRoom', () => {
  it('welcome: the room as the server sees it, titled by the bootstrap when the server sends none', () => {
    const m: ServerMessage = {
      type: 'welcome', self: person('me', 'Me'), participants: [person('a', 'Ann')], permissions: allowed, iceServers: [],
      resumeToken: 'r', resumeWindowMs: 30_000, resumed: false, meeting: { title: '' }, chat: [], activeSpeaker: 'a', recording: true,
    };
    const update = reduceRoom(state({ phase: 'joining', self: undefined, joinError: { message: 'x', seq: 1 } }), m);
    expect(update?.patch).toMatchObject({ phase: 'room', others: [person('a', 'Ann')], title: 'Planning', activeSpeaker: 'a', recording: true, joinError: undefined });
  });

  it('recording: everyone sees it start and stop, and why it stopped by itself', () => {
    expect(reduceRoom(state(), { type: 'recording', recording: true })).toEqual({ patch: { recording: true }, announce: 'Recording started', toast: 'Recording started' });
    const full = reduceRoom(state({ recording: true }), { type: 'recording', recording: false, error: 'the disk is full' });
    expect(full).toEqual({ patch: { recording: false }, announce: 'Recording stopped: the disk is full', toast: 'Recording stopped: the disk is full' });
  });

  it('someone new joins: listed, announced and told to the embedding page; a known one is only updated', () => {
    const joined = reduceRoom(state(), { type: 'participantJoined', participant: person('a', 'Ann') });
    expect(joined).toEqual({
      patch: { others: [person('a', 'Ann')] },
      announce: 'Ann joined',
      event: { name: 'participantJoined', data: { participantId: 'a', name: 'Ann' } },
    });
    const again = reduceRoom(state({ others: [person('a', 'Ann')] }), { type: 'participantJoined', participant: person('a', 'Ann', { handRaised: true }) });
    expect(again).toEqual({ patch: { others: [person('a', 'Ann', { handRaised: true })] } });
  });

  it('an update about us changes self, not the others', () => {
    const update = reduceRoom(state(), { type: 'participantUpdated', participant: person('me', 'Me', { audioMuted: true }) });
    expect(update).toEqual({ patch: { self: person('me', 'Me', { audioMuted: true }) } });
  });

  it('someone leaves: gone from the list and from the media received', () => {
    const remote = new Map([['a', {}], ['b', {}]]);
    const update = reduceRoom(state({ others: [person('a', 'Ann'), person('b', 'Bob')], remote }), { type: 'participantLeft', participantId: 'a' });
    expect(update?.patch.others).toEqual([person('b', 'Bob')]);
    expect([...(update?.patch.remote?.keys() ?? [])]).toEqual(['b']);
    expect(update?.announce).toBe('Ann left');
    expect(update?.event).toEqual({ name: 'participantLeft', data: { participantId: 'a', name: 'Ann' } });
    expect(reduceRoom(state(), { type: 'participantLeft', participantId: 'nobody' })?.announce).toBeUndefined();
  });

  it('chat: unread and announced while the chat panel is closed, unless it is ours', () => {
    const message = { id: '1', from: 'a', name: 'Ann', text: 'hi', at: '2030-01-01T00:00:00Z' };
    expect(reduceRoom(state(), { type: 'chat', message })).toEqual({ patch: { chat: [message], unreadChat: 1 }, announce: 'New message from Ann' });
    expect(reduceRoom(state({ panel: 'chat' }), { type: 'chat', message })).toEqual({ patch: { chat: [message], unreadChat: 0 } });
    expect(reduceRoom(state(), { type: 'chat', message: { ...message, from: 'me' } })?.announce).toBeUndefined();
  });

  it('the lobby queue is taken whole, dropping malformed entries', () => {
    const waiting = [{ id: 'w1', name: 'Wanda' }, { id: 3 } as unknown as { id: string; name: string }];
    expect(reduceRoom(state(), { type: 'lobbyQueue', waiting })).toEqual({ patch: { waiting: [{ id: 'w1', name: 'Wanda' }] } });
  });

  it('changed permissions: applied in the room with a toast that says what changed', () => {
    const fewer = { ...allowed, publishAudio: false, shareScreen: false };
    const update = reduceRoom(state({ waiting: [{ id: 'w', name: 'W' }] }), { type: 'permissions', permissions: fewer });
    expect(update?.patch).toEqual({ permissions: fewer, waiting: [] });
    expect(update?.toast).toBe('The organiser changed this meeting: you can no longer use your microphone, screen sharing.');
    // Not yet in the room: the welcome brings them.
    expect(reduceRoom(state({ phase: 'joining', permissions: undefined }), { type: 'permissions', permissions: fewer })).toEqual({ patch: {} });
  });

  it('the speaker view features the last other person who spoke, also while we talk, until they leave', () => {
    let s = state({ others: [person('a', 'Ann'), person('b', 'Bo')] });
    const apply = (m: ServerMessage) => {
      s = { ...s, ...reduceRoom(s, m)!.patch };
    };
    apply({ type: 'activeSpeaker', participantId: 'b' });
    expect([s.activeSpeaker, s.featured]).toEqual(['b', 'b']);
    apply({ type: 'activeSpeaker', participantId: 'me' });
    expect([s.activeSpeaker, s.featured]).toEqual(['me', 'b']);
    apply({ type: 'activeSpeaker', participantId: null });
    expect(s.featured).toBe('b');
    apply({ type: 'participantLeft', participantId: 'a' });
    expect(s.featured).toBe('b');
    apply({ type: 'participantLeft', participantId: 'b' });
    expect(s.featured).toBeNull();
  });

  it('paused videos are taken whole: the cameras the server does not send now', () => {
    const videos = [
      { participantId: 'a', source: 'camera', reason: 'last-n' },
      { participantId: 'b', source: 'screen', reason: 'bandwidth' },
      { participantId: 'c', source: 'microphone', reason: 'bandwidth' },
    ] as unknown as Extract<ServerMessage, { type: 'videoPaused' }>['videos'];
    expect(reduceRoom(state(), { type: 'videoPaused', videos })).toEqual({ patch: { pausedVideos: { 'a:camera': 'last-n', 'b:screen': 'bandwidth' } } });
    expect(reduceRoom(state({ pausedVideos: { 'a:camera': 'last-n' } }), { type: 'videoPaused', videos: [] })).toEqual({ patch: { pausedVideos: {} } });
  });

  it('leaves session and media messages to the Meeting', () => {
    expect(reduceRoom(state(), { type: 'pong', t: 1 })).toBeUndefined();
    expect(reduceRoom(state(), { type: 'mediaReset' })).toBeUndefined();
    expect(reduceRoom(state(), { type: 'closed', state: 'ended', message: 'over' })).toBeUndefined();
  });
});
