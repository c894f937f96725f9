import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from 'typebox';
import type { Core } from '../../core/index.js';
import * as S from './schemas.js';

const PlacedMeeting = Type.Object({
  id: Type.String(),
  title: Type.String(),
  accountId: Type.String(),
  status: Type.Integer({ description: 'the meeting’s status code (8 or 11: in progress)' }),
});

const ClusterNode = Type.Object({
  id: Type.String({ description: 'NODE_ID' }),
  url: Type.String({ description: 'where browsers reach the node itself (NODE_PUBLIC_URL)' }),
  state: Type.Union([Type.Literal('live'), Type.Literal('draining')], { description: 'draining: takes no new meetings (parley drain or SIGTERM); its running meetings go on' }),
  participants: Type.Integer({ description: 'people seated in its rooms' }),
  streams: Type.Integer({ description: 'tracks its media workers forward' }),
  cpu: Type.Number({ description: 'its process’s CPU use, 0..1' }),
  eventLoop: Type.Number({ description: 'its busiest media worker’s event-loop use, 0..1' }),
  seenAt: Type.String({ format: 'date-time', description: 'its last heartbeat: the figures are as of then' }),
  meetings: Type.Array(PlacedMeeting, { description: 'the meetings in progress whose room runs there' }),
});

const Nodes = Type.Object({
  clustered: Type.Boolean({ description: 'false: one node without REDIS_URL (then `data` is empty)' }),
  data: Type.Array(ClusterNode),
});

/** The operator's view of the cluster: every live node and where each meeting runs. */
export function nodeRoutes(parent: FastifyInstance, core: Core): void {
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  app.get('/nodes', {
    schema: { tags: ['admin'], summary: 'Every node of the cluster with its load and the meetings it runs', response: { 200: Nodes, ...S.Errors } },
  }, async (): Promise<Static<typeof Nodes>> => {
    const view = await core.clusterView();
    return {
      clustered: !view.single,
      data: view.nodes.map((n) => ({
        id: n.id, url: n.url, state: n.draining ? 'draining' : 'live', participants: n.participants, streams: n.streams,
        cpu: n.cpu, eventLoop: n.eventLoop, seenAt: n.seenAt.toISOString(),
        meetings: n.meetings.map((m) => ({ id: m.id, title: m.title, accountId: m.accountId, status: m.status })),
      })),
    };
  });
}
