import type { Core } from '../core/index.js';
import { UdpReceiveDrops, type MediaService, type WorkerStats } from '../media/index.js';
import type { Metrics, Sample } from './registry.js';

/** What signaling tells about this node's rooms. */
export interface RoomCounts {
  counts(): { rooms: number; seated: number; waiting: number };
}

/** Calls `load` once for all the readers of one scrape (they all start before the first await ends). */
function sharedPerScrape<T>(load: () => Promise<T>): () => Promise<T> {
  let pending: Promise<T> | undefined;
  return () => {
    pending ??= load().finally(() => {
      pending = undefined;
    });
    return pending;
  };
}

/** Meetings and participants as the core records them (every node's, from the store). */
export function coreSources(metrics: Metrics, core: Core): void {
  const counts = sharedPerScrape(() => core.liveCounts());
  metrics.registerGaugeSource('parley_meetings_live', 'Meetings in progress (status 8 or 11), on every node', async () => (await counts()).meetings);
  metrics.registerGaugeSource('parley_participants_connected', 'Participants connected now (status 10), on every node', async () => (await counts()).participants);
  metrics.registerGaugeSource('parley_media_service_enabled', '1 when the media service is switched on (not stopped by the API)', () => (core.service.status().enabled ? 1 : 0));
}

/** This node's rooms, from signaling. */
export function signalingSources(metrics: Metrics, rooms: RoomCounts): void {
  metrics.registerGaugeSource('parley_rooms_open', 'Live rooms on this node', () => rooms.counts().rooms);
  metrics.registerGaugeSource('parley_participants_seated', 'People seated in this node’s rooms', () => rooms.counts().seated);
  metrics.registerGaugeSource('parley_lobby_waiting', 'People waiting in a lobby on this node', () => rooms.counts().waiting);
}

/** The media workers' counters, per worker (`worker` label is the worker's slot index). */
export function mediaSources(metrics: Metrics, media: MediaService): void {
  const stats = sharedPerScrape(() => media.stats());
  const perWorker = (pick: (w: WorkerStats) => number | undefined) => async (): Promise<Sample> =>
    (await stats()).flatMap((w) => {
      const value = pick(w);
      return value === undefined ? [] : [{ labels: { worker: w.index }, value }];
    });
  const perDirection = (inbound: (w: WorkerStats) => number, outbound: (w: WorkerStats) => number) => async (): Promise<Sample> =>
    (await stats()).flatMap((w) => [
      { labels: { worker: w.index, direction: 'in' }, value: inbound(w) },
      { labels: { worker: w.index, direction: 'out' }, value: outbound(w) },
    ]);
  const worker = ['worker'];
  const directed = ['worker', 'direction'];

  metrics.registerGaugeSource('parley_media_worker_alive', '1 while the media worker thread runs', perWorker((w) => (w.alive ? 1 : 0)), worker);
  metrics.registerCounterSource('parley_media_worker_restarts_total', 'Media worker respawns after a crash', perWorker((w) => w.restarts), worker);
  metrics.registerCounterSource('parley_media_worker_cpu_seconds_total', 'CPU time of the media worker thread (Linux)', perWorker((w) => w.cpuSeconds), worker);
  metrics.registerCounterSource('parley_media_worker_event_loop_active_seconds_total', 'Busy time of the worker event loop; its rate is the utilisation', perWorker((w) => w.eventLoopActiveSeconds), worker);
  metrics.registerGaugeSource('parley_media_worker_event_loop_utilization', 'Worker event-loop utilisation over the last 2 s (0..1)', perWorker((w) => w.recentEventLoopUtilization), worker);
  metrics.registerCounterSource('parley_media_worker_stalls_total', 'Times the media worker thread could not run for 250 ms or more (publishers see a congested link after one)', perWorker((w) => w.loopStalls), worker);
  metrics.registerCounterSource('parley_media_worker_stalled_seconds_total', 'Time the media worker thread spent in such stalls', perWorker((w) => w.loopStalledSeconds), worker);
  metrics.registerGaugeSource('parley_media_rooms', 'Media rooms open in the worker', perWorker((w) => w.rooms), worker);
  metrics.registerGaugeSource('parley_media_peers', 'Media peers (participants with a transport) in the worker', perWorker((w) => w.peers), worker);
  metrics.registerGaugeSource('parley_media_tracks_published', 'Tracks received from publishers now', perWorker((w) => w.tracksPublished), worker);
  metrics.registerGaugeSource('parley_media_tracks_forwarded', 'Tracks sent to subscribers now (one per subscriber and track)', perWorker((w) => w.tracksForwarded), worker);
  metrics.registerCounterSource('parley_media_rtp_packets_total', 'RTP packets received from publishers (in) and forwarded to subscribers (out)', perDirection((w) => w.packetsIn, (w) => w.packetsOut), directed);
  metrics.registerCounterSource('parley_media_rtp_bytes_total', 'RTP bytes in and out; 8 × rate() is the bitrate', perDirection((w) => w.bytesIn, (w) => w.bytesOut), directed);
  metrics.registerCounterSource('parley_media_rtp_packets_lost_total', 'Incoming RTP sequence numbers skipped (loss between publishers and the server)', perWorker((w) => w.packetsLost), worker);
  metrics.registerCounterSource('parley_media_rtp_packets_resent_total', 'RTP packets sent again to subscribers for their NACKs', perWorker((w) => w.packetsResent), worker);
  metrics.registerCounterSource('parley_media_rtp_resends_missing_total', 'Packets a subscriber NACKed that were no longer in the send history (lost for that subscriber)', perWorker((w) => w.resendsMissing), worker);
  const drops = new UdpReceiveDrops();
  metrics.registerCounterSource('parley_media_udp_receive_drops_total',
    'Datagrams the kernel dropped because a UDP socket of this process had a full receive buffer: the media workers fell behind (Linux)',
    () => drops.read() ?? []);
  metrics.registerCounterSource('parley_media_rtp_packets_late_total', 'Incoming RTP packets that came after a later one while some were missing (recovered by NACK or reordered)', perWorker((w) => w.packetsLate), worker);
}

/** The webhook outbox (every node's, from the store) and this process's delivery attempts. */
export function webhookSources(metrics: Metrics, core: Core, worker: { attempts: { delivered: number; failed: number }; busy: number }): void {
  const counts = sharedPerScrape(() => core.webhooks.counts());
  metrics.registerGaugeSource('parley_webhook_queue_depth', 'Webhook deliveries waiting for their next attempt, on every node', async () => (await counts()).pending);
  metrics.registerGaugeSource('parley_webhook_deliveries_failed', 'Webhook deliveries that gave up after 24 hours (kept 30 days), on every node', async () => (await counts()).failed);
  metrics.registerGaugeSource('parley_webhook_in_flight', 'Webhook requests being sent by this node now', () => worker.busy);
  metrics.registerCounterSource('parley_webhook_delivery_failures_total', 'Webhook attempts by this node that got no 2xx', () => worker.attempts.failed);
  metrics.registerCounterSource('parley_webhook_deliveries_total', 'Webhook attempts by this node that were delivered (2xx)', () => worker.attempts.delivered);
}

/** What the cluster (REDIS_URL) tells about its nodes and where meetings run. */
export interface ClusterView {
  nodes(): Promise<{ id: string; url: string; draining: boolean; participants: number; streams: number; cpu: number; eventLoop: number }[]>;
  /** Meeting id → the id of the node it is placed on, for these meetings. */
  placements(meetingIds: readonly string[]): Promise<Map<string, string>>;
}

/** Every live node of the cluster and where each live meeting runs (the same on every node). */
export function clusterSources(metrics: Metrics, core: Core, cluster: ClusterView): void {
  const nodes = sharedPerScrape(() => cluster.nodes());
  const perNode = (pick: (n: Awaited<ReturnType<ClusterView['nodes']>>[number]) => number) => async (): Promise<Sample> =>
    (await nodes()).map((n) => ({ labels: { node: n.id }, value: pick(n) }));
  metrics.registerGaugeSource('parley_cluster_node_up', '1 for each node whose heartbeat is current (url: its NODE_PUBLIC_URL)',
    async () => (await nodes()).map((n) => ({ labels: { node: n.id, url: n.url }, value: 1 })), ['node', 'url']);
  metrics.registerGaugeSource('parley_cluster_node_draining', '1 while a node takes no new meetings (parley drain)', perNode((n) => (n.draining ? 1 : 0)), ['node']);
  metrics.registerGaugeSource('parley_cluster_node_participants', 'People seated on the node, as of its last heartbeat', perNode((n) => n.participants), ['node']);
  metrics.registerGaugeSource('parley_cluster_node_streams', 'Tracks the node forwards, as of its last heartbeat', perNode((n) => n.streams), ['node']);
  metrics.registerGaugeSource('parley_cluster_node_cpu', 'The node process’s CPU use (0..1 of the machine), as of its last heartbeat', perNode((n) => n.cpu), ['node']);
  metrics.registerGaugeSource('parley_cluster_meeting_node', '1 per live meeting, labelled with the node it runs on', async () => {
    const placed = await cluster.placements(await core.liveMeetingIds());
    return [...placed].map(([meeting, node]) => ({ labels: { meeting, node }, value: 1 }));
  }, ['meeting', 'node']);
}
