import type { MeetingRecord, ParticipantRecord } from '../store/index.js';
import { deriveToken, sha256Hex } from './secrets.js';

/**
 * Every URL the APIs hand out. Tokens in them are derived from the server secret (see
 * deriveToken), so the database stores only their hashes.
 */
export class Links {
  private baseUrl: string;

  constructor(publicUrl: string, private readonly secret: Buffer) {
    this.baseUrl = publicUrl.replace(/\/+$/, '');
  }

  get base(): string {
    return this.baseUrl;
  }

  /** Once the server knows its real port (PORT=0), links follow it. */
  rebase(publicUrl: string): void {
    this.baseUrl = publicUrl.replace(/\/+$/, '');
  }

  participantToken(p: Pick<ParticipantRecord, 'id' | 'tokenVersion'>): string {
    return deriveToken(this.secret, 'participant', p.id, p.tokenVersion);
  }

  participantTokenHash(p: Pick<ParticipantRecord, 'id' | 'tokenVersion'>): string {
    return sha256Hex(this.participantToken(p));
  }

  /** Livebox's hashKey: the key in the conference link. */
  hashKey(meetingId: string): string {
    return deriveToken(this.secret, 'conference', meetingId, 0);
  }

  hashKeyHash(meetingId: string): string {
    return sha256Hex(this.hashKey(meetingId));
  }

  /** Hash of a presented hashKey or link token, to look it up. */
  tokenHash(token: string): string {
    return sha256Hex(token);
  }

  meetingUrl(m: Pick<MeetingRecord, 'code'>): string {
    return `${this.base}/${m.code}`;
  }

  participantUrl(p: Pick<ParticipantRecord, 'id' | 'tokenVersion'>): string {
    return `${this.base}/e/${this.participantToken(p)}`;
  }

  conferenceUrl(m: Pick<MeetingRecord, 'id'>): string {
    return `${this.base}/lbmeeting/?key=${this.hashKey(m.id)}`;
  }

  embedUrl(m: Pick<MeetingRecord, 'id'>): string {
    return `${this.base}/embed/${this.hashKey(m.id)}`;
  }
}
