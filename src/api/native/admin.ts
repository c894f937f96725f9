import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Core } from '../../core/index.js';
import type { AccountRecord } from '../../store/index.js';
import { auditChanges, identify } from '../http/audit.js';
import { adminAuditRoute, ADMIN_AUDIT } from './audit.js';
import { controlService, nativeConventions, serviceAction } from './routes.js';
import * as S from './schemas.js';
import { adminSessionRoutes, authenticateAdmin } from './admin-auth.js';
import { liveRoutes, liveView, LiveState } from './live.js';
import { nodeRoutes } from './nodes.js';
import { webhookRoutes } from './webhooks.js';
import { pageQuery, toPage } from './support.js';
import { accountView, meetingView, userView } from './views.js';

const OperatorLive = Type.Object({
  meeting: S.Meeting,
  account: Type.Object({ id: Type.String(), name: Type.String() }),
  ...LiveState.properties,
}, { title: 'OperatorLiveMeeting' });

/** The admin API's names for the core's fields: the path names the account `id`. */
const FIELDS: Record<string, string> = { accountId: 'id', userId: 'userId' };

/** Native API, operator scope (/api/v1/admin): the admin token printed at first start. */
export async function adminRoutes(parent: FastifyInstance, opts: { core: Core; log: FastifyBaseLogger }): Promise<void> {
  const { core } = opts;
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  nativeConventions(app, opts.log, FIELDS);
  auditChanges(app, core, ADMIN_AUDIT);
  app.addHook('onRequest', async (request) => {
    if (request.routeOptions.config.adminAuth === 'none') return;
    await authenticateAdmin(core, request);
    identify(request, { actor: { accountId: null, surface: 'admin', credential: request.headers.authorization !== undefined ? 'admin-token' : 'console-session' } });
  });
  adminSessionRoutes(app, core);
  adminAuditRoute(app, core);

  app.get('/accounts', { schema: { tags: ['admin'], summary: 'List accounts', response: { 200: Type.Object({ data: Type.Array(S.Account) }), ...S.Errors } } },
    async () => ({ data: (await core.accounts.list()).map((a) => accountView(core, a)) }));

  app.post('/accounts', { config: { audit: 'account.create' },
    schema: {
      tags: ['admin'], summary: 'Create an account; its credentials are shown once',
      description: 'The account may control the media service only with "serviceControl": true.',
      body: S.AccountCreate, response: { 201: Type.Object({ account: S.Account, credentials: S.Credentials }), ...S.BodyErrors },
    },
  }, async (request, reply) => {
    const { account, credentials } = await core.accounts.create(request.body);
    return reply.status(201).send({ account: accountView(core, account), credentials });
  });

  app.get('/accounts/:id', { schema: { tags: ['admin'], summary: 'Get an account', params: S.IdParams, response: { 200: S.Account, ...S.Errors } } },
    async (request) => accountView(core, await core.accounts.get(request.params.id)));

  app.patch('/accounts/:id', { config: { audit: 'account.update' }, schema: { tags: ['admin'], summary: 'Change an account (name, time zone, quotas, service control, CORS origins, rate limit)', params: S.IdParams, body: S.AccountUpdate, response: { 200: S.Account, ...S.BodyErrors } } },
    async (request) => accountView(core, await core.accounts.update(request.params.id, request.body)));

  app.post('/accounts/:id/rotate', { config: { audit: 'account.rotate-secret' },
    schema: { tags: ['admin'], summary: 'Replace one of the account’s secrets', params: S.IdParams, body: S.RotateBody, response: { 200: Type.Object({ secret: Type.String() }), ...S.BodyErrors } },
  }, async (request) => ({ secret: await core.accounts.rotate(request.params.id, request.body.secret) }));

  app.get('/accounts/:id/users', {
    schema: { tags: ['admin'], summary: 'List the account’s users and their API permission', params: S.IdParams, querystring: S.PageQuery, response: { 200: S.Page(S.User), ...S.Errors } },
  }, async (request) => {
    const account = await core.accounts.get(request.params.id);
    const q = pageQuery(request.query);
    return toPage(await core.users.list(account, q), q, (u) => userView(u));
  });

  app.patch('/accounts/:id/users/:userId', { config: { audit: 'user.api-permission' },
    schema: {
      tags: ['admin'], summary: 'Grant or withdraw a user’s API permission (Livebox API access)',
      params: S.AdminUserParams, body: S.ApiPermissionBody, response: { 200: S.User, ...S.BodyErrors },
    },
  }, async (request) => userView(await core.accounts.setApiPermission(request.params.id, { id: request.params.userId }, request.body.apiPermission)));

  app.post('/accounts/:id/users/:userId/api-key', {
    schema: {
      tags: ['admin'], summary: 'Issue a new Livebox API key for a user (the old one stops working; shown once)',
      params: S.AdminUserParams, response: { 200: S.User, ...S.BodyErrors },
    },
  }, async (request) => {
    const account = await core.accounts.get(request.params.id);
    const apiKey = await core.users.rotateApiKey(account, request.params.userId);
    return userView(await core.users.get(account, request.params.userId), apiKey);
  });

  app.get('/live', {
    schema: {
      tags: ['admin'], summary: 'Every live meeting, across accounts, with who is in it',
      response: { 200: Type.Object({ data: Type.Array(OperatorLive) }), ...S.Errors },
    },
  }, async () => ({
    data: (await core.live.overview()).map((live) => ({
      meeting: meetingView(core, live.meeting), account: { id: live.account.id, name: live.account.name }, ...liveView(live),
    })),
  }));

  app.post('/meetings/:id/end', {
    schema: { tags: ['admin'], summary: 'End any account’s meeting for everyone', params: S.IdParams, response: { 200: S.Meeting, ...S.BodyErrors } },
  }, async (request) => meetingView(core, await core.live.endForOperator(request.params.id)));

  // The operator has what an account has on its own meetings and webhooks: the same routes, with
  // the account taken from the path (or from the meeting).
  const accounts = new WeakMap<FastifyRequest, AccountRecord>();
  const accountOf = (request: FastifyRequest) => accounts.get(request) as AccountRecord; // set by the preHandler hooks below
  await app.register(async (scope) => {
    scope.addHook('preHandler', async (request) => {
      accounts.set(request, await core.accounts.get((request.params as { accountId: string }).accountId));
    });
    webhookRoutes(scope, core, accountOf, ['admin']);
  }, { prefix: '/accounts/:accountId' });
  await app.register(async (scope) => {
    scope.addHook('preHandler', async (request) => {
      const meeting = await core.meetings.getForOperator((request.params as { id: string }).id);
      accounts.set(request, await core.accounts.get(meeting.accountId));
    });
    liveRoutes(scope, core, accountOf, ['admin']);
  });

  nodeRoutes(app, core);

  app.get('/service', {
    schema: { tags: ['admin'], summary: 'Media service state, with the addresses and the media workers', response: { 200: S.ServiceState, ...S.Errors } },
  }, async () => core.service.status());

  app.post('/service', {
    config: { audit: serviceAction },
    schema: { tags: ['admin'], summary: 'Control the media service as the operator', body: S.ServiceAction, response: { 200: S.ServiceState, ...S.BodyErrors, ...S.errorResponses(503) } },
  }, async (request) => {
    await controlService(core, 'operator', request.body.action);
    return core.service.status();
  });
}
