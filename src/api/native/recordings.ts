import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { CoreError, MAX_DOWNLOAD_URL_TTL_S, DOWNLOAD_URL_TTL_S, type Core } from '../../core/index.js';
import type { AccountRecord, RecordingRecord } from '../../store/index.js';
import * as S from './schemas.js';
import { pageQuery, toPage } from './support.js';
import { iso } from './views.js';

// ---- schemas ------------------------------------------------------------------------------

const Recording = Type.Object({
  id: Type.String(),
  meetingId: Type.String(),
  state: Type.Union([Type.Literal('recording'), Type.Literal('processing'), Type.Literal('ready'), Type.Literal('failed')], {
    description: 'recording: being written; processing: composing the MP4 (see progress); ready: downloadable; failed: see error',
  }),
  startedBy: Type.String({ description: 'api, auto (the meeting’s autoRecord) or the id of the participant who started it' }),
  startedAt: Type.String({ format: 'date-time' }),
  stoppedAt: S.Nullable(Type.String({ format: 'date-time' })),
  durationMs: S.Nullable(Type.Integer({ description: 'length of the recorded span' })),
  sizeBytes: S.Nullable(Type.Integer({ description: 'size of the composed MP4, once ready' })),
  progress: Type.Number({ description: 'composition progress from 0 to 1' }),
  error: S.Nullable(Type.String({ description: 'why it failed, or why recording stopped early (e.g. the disk was full)' })),
  tracks: Type.Array(Type.Object({
    participantId: Type.String(),
    group: Type.Union([Type.Literal('camera'), Type.Literal('screen')], { description: 'camera: microphone and camera together; screen: the screen share' }),
    offsetMs: Type.Integer({ description: 'when this file starts, from the recording’s start' }),
    bytes: Type.Integer(),
    audio: Type.Boolean(),
    video: Type.Boolean(),
  }), { description: 'the raw WebM files (VP8/Opus) written as the media arrived' }),
  createdAt: Type.String({ format: 'date-time' }),
}, { title: 'Recording' });

const DownloadQuery = Type.Object({
  ttlSeconds: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_DOWNLOAD_URL_TTL_S, description: `how long the link works (default ${DOWNLOAD_URL_TTL_S})` })),
});
const DownloadLink = Type.Object({
  url: Type.String({ description: 'GET it without credentials; Range requests are answered (206) so players can seek' }),
  expiresAt: Type.String({ format: 'date-time' }),
});
const FileQuery = Type.Object({
  expires: Type.Integer({ description: 'unix seconds, as signed' }),
  signature: Type.String({ maxLength: 100 }),
}, { additionalProperties: false });

function recordingView(r: RecordingRecord) {
  return {
    id: r.id, meetingId: r.meetingId, state: r.state, startedBy: r.startedBy, startedAt: r.startedAt.toISOString(),
    stoppedAt: iso(r.stoppedAt), durationMs: r.durationMs, sizeBytes: r.sizeBytes, progress: r.progress, error: r.error,
    tracks: r.tracks.map(({ participantId, group, offsetMs, bytes, audio, video }) => ({ participantId, group, offsetMs, bytes, audio, video })),
    createdAt: r.createdAt.toISOString(),
  };
}

// ---- routes -------------------------------------------------------------------------------

/** Account scope (Bearer): start/stop a meeting's recording, list, get, delete, a download link. */
export function recordingRoutes(
  parent: FastifyInstance, core: Core, accountOf: (request: FastifyRequest) => AccountRecord,
): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  const meetingOf = (request: FastifyRequest<{ Params: { id: string } }>) => core.meetings.get(accountOf(request), request.params.id);

  app.post('/meetings/:id/recording/start', { config: { audit: 'recording.start' },
    schema: { tags: ['recordings'], summary: 'Start recording a meeting in progress', params: S.IdParams, response: { 201: Recording, ...S.Errors } },
  }, async (request, reply) => reply.status(201).send(recordingView(await core.recordings.start(await meetingOf(request), { kind: 'api' }))));

  app.post('/meetings/:id/recording/stop', { config: { audit: 'recording.stop' },
    schema: { tags: ['recordings'], summary: 'Stop the meeting’s recording; its composition begins', params: S.IdParams, response: { 200: Recording, ...S.Errors } },
  }, async (request) => recordingView(await core.recordings.stop(await meetingOf(request), { kind: 'api' })));

  app.get('/recordings', { schema: { tags: ['recordings'], summary: 'List recordings, oldest first', querystring: S.PageQuery, response: { 200: S.Page(Recording), ...S.Errors } } },
    async (request) => {
      const q = pageQuery(request.query);
      return toPage(await core.recordings.list(accountOf(request), q), q, recordingView);
    });

  app.get('/recordings/:id', { schema: { tags: ['recordings'], summary: 'Get a recording: state, progress, duration, size, tracks', params: S.IdParams, response: { 200: Recording, ...S.Errors } } },
    async (request) => recordingView(await core.recordings.get(accountOf(request), request.params.id)));

  app.delete('/recordings/:id', { config: { audit: 'recording.delete' },
    schema: { tags: ['recordings'], summary: 'Delete a recording and its files', params: S.IdParams, response: { 204: Type.Null(), ...S.Errors } },
  }, async (request, reply) => {
    await core.recordings.delete(accountOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  app.post('/recordings/:id/download', {
    schema: {
      tags: ['recordings'], summary: 'A short-lived signed link to the composed MP4', params: S.IdParams, querystring: DownloadQuery,
      response: { 200: DownloadLink, ...S.Errors },
    },
  }, async (request) => {
    const { url, expiresAt } = await core.recordings.downloadUrl(accountOf(request), request.params.id, request.query.ttlSeconds);
    return { url, expiresAt: expiresAt.toISOString() };
  });
}

/**
 * `bytes=a-b`, `bytes=a-`, `bytes=-n` (one range); undefined: the whole file (no header, or one we
 * do not read, such as several ranges: RFC 9110 lets a server ignore it); null: not satisfiable.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | undefined | null {
  if (!header) return undefined;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return undefined;
  let start: number;
  let end: number;
  if (m[1] === '') {
    start = Math.max(0, size - Number(m[2]));
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (start > end || start >= size) return null;
  return { start, end };
}

/** No Bearer: the signed link is the credential. Range requests are served. */
export function recordingFileRoute(parent: FastifyInstance, core: Core): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/recordings/:id/file', {
    schema: {
      tags: ['recordings'], summary: 'Download the composed MP4 through a signed link (from POST /recordings/{id}/download)', security: [],
      params: S.IdParams, querystring: FileQuery,
      response: {
        200: Type.Unknown({ description: 'video/mp4' }), 206: Type.Unknown({ description: 'the requested byte range' }),
        416: Type.Unknown({ description: 'the range lies outside the file' }), ...S.Errors,
      },
    },
  }, async (request, reply) => {
    const recording = await core.recordings.redeemDownload(request.params.id, request.query.expires, request.query.signature);
    const path = core.recordings.fileOf(recording);
    const size = await stat(path).then((s) => s.size, () => undefined);
    if (size === undefined) {
      // Several nodes without a shared directory: the node that composed it serves it.
      const elsewhere = await core.recordings.fileElsewhere(recording);
      if (elsewhere) return reply.redirect(`${elsewhere}${request.url}`, 307);
      throw new CoreError('not_found', 'the recording’s file is gone');
    }
    const range = parseRange(request.headers.range, size);
    reply.header('Accept-Ranges', 'bytes').header('Cache-Control', 'private, no-store');
    if (range === null) {
      return reply.status(416).header('Content-Range', `bytes */${size}`)
        .send({ error: { code: 'range_not_satisfiable', message: `the range lies outside the file (${size} bytes)`, details: {} } });
    }
    reply.type('video/mp4').header('Content-Disposition', `attachment; filename="${recording.id}.mp4"`);
    if (!range) return reply.header('Content-Length', size).send(createReadStream(path));
    return reply.status(206).header('Content-Range', `bytes ${range.start}-${range.end}/${size}`)
      .header('Content-Length', range.end - range.start + 1).send(createReadStream(path, range));
  });
}
