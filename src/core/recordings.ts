import { createHmac } from 'node:crypto';
import { basename, join } from 'node:path';
import type { AccountRecord, MeetingRecord, PageQuery, PresetPermissions, RecordingRecord, RecordingTrack, Store } from '../store/index.js';
import { conflict, CoreError, invalid, notFound } from './errors.js';
import type { CoreEventBus } from './events.js';
import { lookupKey } from './limits.js';
import { newId, safeEqual } from './secrets.js';
import { isLive } from './status.js';
import type { WebhookOutbox } from './webhooks/index.js';

/** A composition that failed this many times (crashes, time limits) is given up. */
export const MAX_COMPOSE_ATTEMPTS = 3;
/** Signed download links live this long unless asked otherwise. */
export const DOWNLOAD_URL_TTL_S = 300;
export const MAX_DOWNLOAD_URL_TTL_S = 86_400;

/** One raw file as the media plane reports it (absolute path, wall-clock start). */
export interface RecordedTrackFile {
  participantId: string;
  group: 'camera' | 'screen';
  path: string;
  startedAt: number | null;
  bytes: number;
  audio: boolean;
  video: boolean;
}

/**
 * What records: signaling registers it (src/signaling/recording-plane.ts). `start` resolves once
 * the meeting's room records; `stop` resolves with the files written.
 */
export interface RecordingPlane {
  start(meetingId: string, recordingId: string, dir: string): Promise<void>;
  stop(meetingId: string, recordingId: string): Promise<RecordedTrackFile[]>;
}

/** What several nodes do for recordings; one node does none of it. */
export interface RecordingCluster {
  /** The plane that reaches the meeting's node, given this node's own. */
  plane(local: RecordingPlane, dirOf: (recordingId: string) => string): RecordingPlane;
  /** True while this node holds the lease `name` (composition: once for the cluster). */
  lease(name: string, ttlMs: number): Promise<boolean>;
  /** This node has the recording's composed file. */
  holdsFile(recordingId: string): Promise<void>;
  /** The address of another live node that has the file; undefined: this one or none. */
  fileAt(recordingId: string): Promise<string | undefined>;
}

const ONE_NODE: RecordingCluster = {
  plane: (local) => local,
  lease: async () => true,
  holdsFile: async () => undefined,
  fileAt: async () => undefined,
};

/** How long a node's claim on composing a recording lasts without a progress report. */
const COMPOSE_LEASE_MS = 60_000;

/** Who starts or stops: a person in the room (their permissions), the API, or autoRecord. */
export type RecordingActor = { kind: 'participant'; participantId: string; permissions: PresetPermissions } | { kind: 'api' } | { kind: 'auto' };

/** Whether a person in the room may start and stop the recording (preset `record`; hosts and moderators always). */
export function mayRecord(permissions: Pick<PresetPermissions, 'record'>): boolean {
  return permissions.record;
}

/** Recordings: when one may start or stop, what they hold, and who may download them. */
export class RecordingService {
  private plane: RecordingPlane | undefined;
  private readonly key: Buffer;

  constructor(
    private readonly store: Store,
    private readonly events: CoreEventBus,
    private readonly outbox: WebhookOutbox,
    secret: Buffer,
    /** `$DATA_DIR/recordings` */
    readonly dir: string,
    private readonly publicUrl: () => string,
    /** ms since the epoch: signed links expire by it (tests move it forward) */
    private readonly now: () => number = Date.now,
    /** With several nodes: what the cluster does for recordings (the Coordination port). */
    private readonly cluster: RecordingCluster = ONE_NODE,
  ) {
    this.key = createHmac('sha256', secret).update('parley recording download v1').digest();
    // autoRecord: the meeting's recording starts when the meeting does (someone's media is up).
    events.on('meeting.status', async (e) => {
      if (e.status !== 8 || e.previous === 8 || e.previous === 11) return;
      const meeting = await store.meetings.get(e.meetingId);
      if (meeting?.autoRecord && !(await store.recordings.findRunning(meeting.id))) await this.start(meeting, { kind: 'auto' });
    });
  }

  attachPlane(plane: RecordingPlane): void {
    this.plane = this.cluster.plane(plane, (recordingId) => this.dirOf({ id: recordingId }));
  }

  /** With several nodes and no shared directory: the node that has the composed file, if not this one. */
  fileElsewhere(recording: Pick<RecordingRecord, 'id'>): Promise<string | undefined> {
    return this.cluster.fileAt(recording.id);
  }

  /** Where a recording's raw files and composed MP4 live. */
  dirOf(recording: Pick<RecordingRecord, 'id'>): string {
    return join(this.dir, recording.id);
  }

  fileOf(recording: Pick<RecordingRecord, 'id'>): string {
    return join(this.dirOf(recording), 'composed.mp4');
  }

  private assertMay(actor: RecordingActor): void {
    if (actor.kind === 'participant' && !mayRecord(actor.permissions)) {
      throw new CoreError('forbidden', 'you may not start or stop the recording of this meeting');
    }
  }

  /** The meeting's recording running now, if any. */
  running(meetingId: string): Promise<RecordingRecord | undefined> {
    return this.store.recordings.findRunning(meetingId);
  }

  async start(meeting: MeetingRecord, actor: RecordingActor): Promise<RecordingRecord> {
    this.assertMay(actor);
    if (!isLive(meeting.status)) throw conflict('the meeting is not in progress: a recording starts once someone is in the room');
    if (await this.store.recordings.findRunning(meeting.id)) throw conflict('the meeting is already being recorded');
    if (!this.plane) throw conflict('media is not running on this server: nothing can be recorded');
    const now = new Date();
    const recording: RecordingRecord = {
      id: newId('rec', now.getTime()), accountId: meeting.accountId, meetingId: meeting.id, state: 'recording',
      startedBy: actor.kind === 'participant' ? actor.participantId : actor.kind, startedAt: now, stoppedAt: null,
      durationMs: null, sizeBytes: null, tracks: [], progress: 0, attempts: 0, error: null, createdAt: now, updatedAt: now,
    };
    await this.store.recordings.insert(recording);
    try {
      await this.plane.start(meeting.id, recording.id, this.dirOf(recording));
    } catch (error) {
      await this.store.recordings.delete(recording.id);
      throw conflict(`the recording could not start: ${error instanceof Error ? error.message : String(error)}`);
    }
    await this.outbox.record('recording.started', meeting, undefined, { recording: webhookView(recording) });
    this.events.emit('recording.state', { accountId: meeting.accountId, meetingId: meeting.id, recordingId: recording.id, recording: true });
    return recording;
  }

  /** From the room, which knows only the meeting's id. */
  async startById(meetingId: string, actor: RecordingActor): Promise<RecordingRecord> {
    this.assertMay(actor);
    return this.start(await this.meeting(meetingId), actor);
  }

  async stopById(meetingId: string, actor: RecordingActor): Promise<RecordingRecord> {
    this.assertMay(actor);
    return this.stop(await this.meeting(meetingId), actor);
  }

  private async meeting(id: string): Promise<MeetingRecord> {
    const meeting = await this.store.meetings.get(id);
    if (!meeting) throw notFound('meeting');
    return meeting;
  }

  async stop(meeting: MeetingRecord, actor: RecordingActor): Promise<RecordingRecord> {
    this.assertMay(actor);
    const running = await this.store.recordings.findRunning(meeting.id);
    if (!running) throw conflict('the meeting is not being recorded');
    const stoppedAt = new Date(); // the span ends now, however long the worker takes to close its files
    let files: RecordedTrackFile[] | undefined;
    let error: string | null = null;
    try {
      files = await this.plane?.stop(meeting.id, running.id);
    } catch (e) {
      error = `the media worker did not answer the stop: ${e instanceof Error ? e.message : String(e)}`;
    }
    return this.finish(running, files, error, stoppedAt);
  }

  /**
   * The recording stopped without a stop (a full disk, the room closed, a worker died): what was
   * written is composed. `files` undefined: the composer reads the directory.
   */
  async ended(recordingId: string, files: RecordedTrackFile[] | undefined, error: string | null): Promise<void> {
    const recording = await this.store.recordings.get(recordingId);
    if (recording?.state === 'recording') await this.finish(recording, files, error);
  }

  private async finish(running: RecordingRecord, files: RecordedTrackFile[] | undefined, error: string | null, now = new Date()): Promise<RecordingRecord> {
    const start = running.startedAt.getTime();
    const tracks: RecordingTrack[] = (files ?? []).filter((f) => f.bytes > 0 && (f.audio || f.video)).map((f) => ({
      participantId: f.participantId, group: f.group, file: basename(f.path),
      offsetMs: Math.max(0, (f.startedAt ?? start) - start), bytes: f.bytes, audio: f.audio, video: f.video,
    }));
    const patch = { state: 'processing' as const, stoppedAt: now, durationMs: now.getTime() - start, tracks, error, updatedAt: now };
    await this.store.recordings.transition(running.id, 'recording', patch);
    this.events.emit('recording.state', { accountId: running.accountId, meetingId: running.meetingId, recordingId: running.id, recording: false, error: error ?? undefined });
    this.events.emit('recordings.queued', {});
    return { ...running, ...patch };
  }

  /** Recordings a previous process left `recording` (it stopped with them): composed from their directories. */
  async reconcile(): Promise<void> {
    for (const r of await this.store.recordings.listByState('recording')) {
      await this.finish(r, undefined, 'the server stopped while recording');
    }
  }

  // ------------------------------------------------------------ composition (src/recording)

  /** What waits for composition (in order), a restart included. */
  pending(): Promise<RecordingRecord[]> {
    return this.store.recordings.listByState('processing');
  }

  /** A composition begins: false when it was tried too often (then it is failed). */
  async beginCompose(listed: RecordingRecord): Promise<boolean> {
    // Once for the cluster: the node holding the recording's lease composes it (renewed with
    // each progress report; a node that dies composing lets it go when the lease expires).
    if (!(await this.cluster.lease(`compose:${listed.id}`, COMPOSE_LEASE_MS))) return false;
    const recording = await this.store.recordings.get(listed.id);
    if (recording?.state !== 'processing') return false; // composed by another node meanwhile
    if (recording.attempts >= MAX_COMPOSE_ATTEMPTS) {
      await this.composeFailed(recording, `gave up after ${recording.attempts} attempts`);
      return false;
    }
    await this.store.recordings.update(recording.id, { attempts: recording.attempts + 1, progress: 0, updatedAt: new Date() });
    return true;
  }

  async progress(recordingId: string, progress: number): Promise<void> {
    await this.cluster.lease(`compose:${recordingId}`, COMPOSE_LEASE_MS);
    await this.store.recordings.update(recordingId, { progress: Math.min(1, Math.max(0, progress)), updatedAt: new Date() });
  }

  /** `found`: what the composer read from the directory when the media plane could not say (a crash). */
  async composed(recording: RecordingRecord, sizeBytes: number, found?: { tracks: RecordingTrack[]; durationMs: number }): Promise<void> {
    const patch = { state: 'ready' as const, sizeBytes, progress: 1, updatedAt: new Date(), ...found };
    if (!(await this.store.recordings.transition(recording.id, 'processing', patch))) return;
    await this.cluster.holdsFile(recording.id);
    await this.notify('recording.ready', { ...recording, ...patch });
  }

  async composeFailed(recording: RecordingRecord, reason: string): Promise<void> {
    const patch = { state: 'failed' as const, error: recording.error ? `${recording.error}; ${reason}` : reason, updatedAt: new Date() };
    if (!(await this.store.recordings.transition(recording.id, 'processing', patch))) return;
    await this.notify('recording.failed', { ...recording, ...patch });
  }

  private async notify(type: 'recording.ready' | 'recording.failed', recording: RecordingRecord): Promise<void> {
    const meeting = await this.store.meetings.get(recording.meetingId);
    if (meeting) await this.outbox.record(type, meeting, undefined, { recording: webhookView(recording) });
  }

  // ------------------------------------------------------------ access (native API)

  list(account: AccountRecord, page: PageQuery): Promise<RecordingRecord[]> {
    return this.store.recordings.list(account.id, page);
  }

  async get(account: AccountRecord, id: string): Promise<RecordingRecord> {
    const recording = await this.store.recordings.findById(account.id, lookupKey('recordingId', id));
    if (!recording) throw notFound('recording');
    return recording;
  }

  /** Deletes the record; the composer removes its files (`recording.deleted`). */
  async delete(account: AccountRecord, id: string): Promise<RecordingRecord> {
    const recording = await this.get(account, id);
    if (recording.state === 'recording') throw conflict('the recording is still running: stop it first');
    await this.store.recordings.delete(recording.id);
    this.events.emit('recording.deleted', { recordingId: recording.id });
    return recording;
  }

  /** A short-lived signed link to the composed file. */
  async downloadUrl(account: AccountRecord, id: string, ttlSeconds = DOWNLOAD_URL_TTL_S, now = this.now()): Promise<{ url: string; expiresAt: Date }> {
    const recording = await this.get(account, id);
    if (recording.state !== 'ready') throw conflict(`the recording is ${recording.state}: only a ready recording can be downloaded`);
    if (!Number.isInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_DOWNLOAD_URL_TTL_S) {
      throw invalid('ttlSeconds', `must be a whole number from 1 to ${MAX_DOWNLOAD_URL_TTL_S}`);
    }
    const expires = Math.floor(now / 1000) + ttlSeconds;
    const url = `${this.publicUrl()}/api/v1/recordings/${recording.id}/file?expires=${expires}&signature=${this.sign(recording.id, expires)}`;
    return { url, expiresAt: new Date(expires * 1000) };
  }

  /** The recording a signed link stands for, if the link is genuine, unexpired and the file ready. */
  async redeemDownload(id: string, expires: number, signature: string, now = this.now()): Promise<RecordingRecord> {
    if (!safeEqual(signature, this.sign(id, expires))) throw new CoreError('forbidden', 'this download link is not valid');
    if (expires * 1000 < now) throw new CoreError('forbidden', 'this download link has expired: ask the API for a new one');
    const recording = await this.store.recordings.get(id);
    if (!recording || recording.state !== 'ready') throw notFound('recording');
    return recording;
  }

  private sign(id: string, expires: number): string {
    return createHmac('sha256', this.key).update(`${id}.${expires}`).digest('base64url');
  }

  /** Deletes the recordings past their account's retention (their files go with `recording.deleted`). */
  async expired(now = new Date(this.now())): Promise<RecordingRecord[]> {
    const out: RecordingRecord[] = [];
    for (const account of await this.store.accounts.list()) {
      if (account.recordingRetentionDays === null) continue;
      const before = new Date(now.getTime() - account.recordingRetentionDays * 86_400_000);
      for (const r of await this.store.recordings.listCreatedBefore(account.id, before)) {
        if (r.state === 'recording' || r.state === 'processing') continue;
        await this.store.recordings.delete(r.id);
        this.events.emit('recording.deleted', { recordingId: r.id });
        out.push(r);
      }
    }
    return out;
  }
}

function webhookView(r: RecordingRecord): Record<string, unknown> {
  return {
    id: r.id, state: r.state, startedAt: r.startedAt.toISOString(), stoppedAt: r.stoppedAt?.toISOString() ?? null,
    durationMs: r.durationMs, sizeBytes: r.sizeBytes, error: r.error,
  };
}
