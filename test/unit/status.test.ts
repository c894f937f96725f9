import { describe, expect, it } from 'vitest';
import { meetingAvailability, nextMeetingState, nextParticipantStatus, type MeetingState } from '../../src/core/status.js';

const at = (status: MeetingState['status'], endReason: MeetingState['endReason'] = null): MeetingState => ({ status, endReason });

describe('meeting status machine', () => {
  it('starts at 1 and goes to 8 on the first connection, host or not', () => {
    expect(nextMeetingState(at(1), { type: 'connected', isHost: false, open: true })).toEqual(at(8));
    expect(nextMeetingState(at(1), { type: 'connected', isHost: true, open: true })).toEqual(at(8));
  });

  it('goes to 11 when the last host leaves, and back to 8 when a host returns', () => {
    const quit = nextMeetingState(at(8), { type: 'left', isHost: true, hostsConnected: 0 });
    expect(quit).toEqual(at(11));
    expect(nextMeetingState(quit, { type: 'connected', isHost: false, open: true })).toEqual(at(11));
    expect(nextMeetingState(quit, { type: 'connected', isHost: true, open: true })).toEqual(at(8));
  });

  it('stays 8 while another host is still in, or when a non-host leaves', () => {
    expect(nextMeetingState(at(8), { type: 'left', isHost: true, hostsConnected: 1 })).toEqual(at(8));
    expect(nextMeetingState(at(8), { type: 'left', isHost: false, hostsConnected: 0 })).toEqual(at(8));
  });

  it('ends (12) for all the ways a meeting ends, keeping the first reason', () => {
    expect(nextMeetingState(at(8), { type: 'ended', reason: 'host_ended' })).toEqual(at(12, 'host_ended'));
    expect(nextMeetingState(at(11), { type: 'ended', reason: 'idle' })).toEqual(at(12, 'idle'));
    expect(nextMeetingState(at(1), { type: 'ended', reason: 'scheduled_end' })).toEqual(at(12, 'scheduled_end'));
    expect(nextMeetingState(at(12, 'host_ended'), { type: 'ended', reason: 'idle' })).toEqual(at(12, 'host_ended'));
  });

  it('lets a cancellation override an earlier end', () => {
    expect(nextMeetingState(at(12, 'idle'), { type: 'ended', reason: 'cancelled' })).toEqual(at(12, 'cancelled'));
    expect(nextMeetingState(at(1), { type: 'ended', reason: 'cancelled' })).toEqual(at(12, 'cancelled'));
  });

  it('does not end a meeting nobody is in for idle, disable or service stop', () => {
    for (const reason of ['idle', 'disabled', 'service_stopped'] as const) {
      expect(nextMeetingState(at(1), { type: 'ended', reason })).toEqual(at(1));
    }
  });

  it('starts a new session when someone joins a meeting that ended idle', () => {
    expect(nextMeetingState(at(12, 'idle'), { type: 'connected', isHost: false, open: true })).toEqual(at(8));
  });

  it('reopens after an end that is not final (idle, disabled, service stopped) once the meeting is open again', () => {
    for (const reason of ['idle', 'disabled', 'service_stopped'] as const) {
      expect(nextMeetingState(at(12, reason), { type: 'connected', isHost: true, open: true })).toEqual(at(8));
      // A connection reported while the meeting is still off, stopped or out of its window.
      expect(nextMeetingState(at(12, reason), { type: 'connected', isHost: true, open: false })).toEqual(at(12, reason));
    }
  });

  it('never reopens after a final end, however late the connection is reported', () => {
    for (const reason of ['host_ended', 'scheduled_end', 'cancelled'] as const) {
      for (const isHost of [true, false]) {
        for (const open of [true, false]) {
          expect(nextMeetingState(at(12, reason), { type: 'connected', isHost, open })).toEqual(at(12, reason));
        }
      }
    }
  });

  it('does not start a meeting that may not be joined now', () => {
    expect(nextMeetingState(at(1), { type: 'connected', isHost: true, open: false })).toEqual(at(1));
  });

  it('keeps a running meeting running whatever the availability says (a late joiner inside the grace period)', () => {
    expect(nextMeetingState(at(8), { type: 'connected', isHost: false, open: false })).toEqual(at(8));
    expect(nextMeetingState(at(11), { type: 'connected', isHost: true, open: false })).toEqual(at(8));
  });

  it('resets to 1', () => {
    expect(nextMeetingState(at(12, 'host_ended'), { type: 'reset' })).toEqual(at(1));
  });
});

describe('participant status machine', () => {
  it('is invited (2) until connected (10), then quit (11) on leaving', () => {
    expect(nextParticipantStatus(2, 'connected')).toBe(10);
    expect(nextParticipantStatus(10, 'left')).toBe(11);
    expect(nextParticipantStatus(11, 'connected')).toBe(10);
  });

  it('lets an invitee decline (3) and change their mind (2) before joining only', () => {
    expect(nextParticipantStatus(2, 'declined')).toBe(3);
    expect(nextParticipantStatus(3, 'accepted')).toBe(2);
    expect(nextParticipantStatus(3, 'declined')).toBe(3);
    expect(nextParticipantStatus(10, 'declined')).toBeNull();
    expect(nextParticipantStatus(11, 'accepted')).toBeNull();
  });

  it('does not turn "left" into anything for someone who never connected', () => {
    expect(nextParticipantStatus(2, 'left')).toBe(2);
    expect(nextParticipantStatus(3, 'left')).toBe(3);
  });

  it('a declined person who joins anyway is in progress', () => {
    expect(nextParticipantStatus(3, 'connected')).toBe(10);
  });
});

describe('meeting availability', () => {
  const now = new Date('2026-06-01T12:00:00Z');
  const base = { cancelledAt: null, enabled: true, status: 1 as const, endReason: null, startsAt: null, endsAt: null };

  it('is open by default', () => {
    expect(meetingAvailability(base, now, true)).toEqual({ state: 'open' });
  });

  it('says cancelled, disabled, stopped', () => {
    expect(meetingAvailability({ ...base, cancelledAt: now }, now, true).state).toBe('cancelled');
    expect(meetingAvailability({ ...base, enabled: false }, now, true).state).toBe('disabled');
    expect(meetingAvailability(base, now, false).state).toBe('service_stopped');
  });

  it('follows the schedule window', () => {
    const startsAt = new Date('2026-06-01T13:00:00Z');
    expect(meetingAvailability({ ...base, startsAt }, now, true)).toEqual({ state: 'not_started', startsAt });
    expect(meetingAvailability({ ...base, endsAt: new Date('2026-06-01T11:00:00Z') }, now, true)).toEqual({ state: 'ended', reason: 'window_passed' });
  });

  it('is ended for good after the host ended it, but reopens after an idle end', () => {
    expect(meetingAvailability({ ...base, status: 12, endReason: 'host_ended' }, now, true).state).toBe('ended');
    expect(meetingAvailability({ ...base, status: 12, endReason: 'scheduled_end' }, now, true).state).toBe('ended');
    expect(meetingAvailability({ ...base, status: 12, endReason: 'idle' }, now, true).state).toBe('open');
  });

  it('opens again after a disable or a service stop once the meeting is on and the service runs', () => {
    expect(meetingAvailability({ ...base, status: 12, endReason: 'disabled' }, now, true).state).toBe('open');
    expect(meetingAvailability({ ...base, status: 12, endReason: 'disabled', enabled: false }, now, true).state).toBe('disabled');
    expect(meetingAvailability({ ...base, status: 12, endReason: 'service_stopped' }, now, true).state).toBe('open');
    expect(meetingAvailability({ ...base, status: 12, endReason: 'service_stopped' }, now, false).state).toBe('service_stopped');
  });
});
