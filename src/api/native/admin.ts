import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Core } from '../../core/index.js';
import { auditChanges, identify } from '../http/audit.js';
import { adminAuditRoute, ADMIN_AUDIT } from './audit.js';
import { controlService, nativeConventions, serviceAction } from './routes.js';
import * as S from './schemas.js';
import { bearerToken, pageQuery, toPage } from './support.js';
import { accountView, userView } from './views.js';

/** The admin API's names for the core's fields: the path names the account `id`. */
const FIELDS: Record<string, string> = { accountId: 'id', userId: 'userId' };

/** Native API, operator scope (/api/v1/admin): the admin token printed at first start. */
export async function adminRoutes(parent: FastifyInstance, opts: { core: Core; log: FastifyBaseLogger }): Promise<void> {
  const { core } = opts;
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  nativeConventions(app, opts.log, FIELDS);
  auditChanges(app, core, ADMIN_AUDIT);
  app.addHook('onRequest', async (request) => {
    await core.admin.authenticate(bearerToken(request));
    identify(request, { actor: { accountId: null, surface: 'admin', credential: 'admin-token' } });
  });

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

  app.patch('/accounts/:id', { config: { audit: 'account.update' }, schema: { tags: ['admin'], summary: 'Change an account (name, time zone, quotas, service control)', params: S.IdParams, body: S.AccountUpdate, response: { 200: S.Account, ...S.BodyErrors } } },
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

  app.post('/service', {
    config: { audit: serviceAction },
    schema: { tags: ['admin'], summary: 'Control the media service as the operator', body: S.ServiceAction, response: { 200: S.ServiceState, ...S.BodyErrors, ...S.errorResponses(503) } },
  }, async (request) => {
    await controlService(core, 'operator', request.body.action);
    return core.service.status();
  });
}
