import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import type { Core } from '../../core/index.js';
import { controlService, nativeConventions } from './routes.js';
import * as S from './schemas.js';
import { bearerToken } from './support.js';
import { accountView } from './views.js';

const errors = { 400: S.ErrorResponse, 401: S.ErrorResponse, 403: S.ErrorResponse, 404: S.ErrorResponse, 409: S.ErrorResponse };

/** Native API, operator scope (/api/v1/admin): the admin token printed at first start. */
export async function adminRoutes(parent: FastifyInstance, opts: { core: Core; log: FastifyBaseLogger }): Promise<void> {
  const { core } = opts;
  const app = parent.withTypeProvider<TypeBoxTypeProvider>();
  nativeConventions(app, opts.log);
  app.addHook('onRequest', async (request) => core.admin.authenticate(bearerToken(request)));

  app.get('/accounts', { schema: { tags: ['admin'], summary: 'List accounts', response: { 200: Type.Object({ data: Type.Array(S.Account) }), ...errors } } },
    async () => ({ data: (await core.accounts.list()).map((a) => accountView(core, a)) }));

  app.post('/accounts', {
    schema: { tags: ['admin'], summary: 'Create an account; its credentials are shown once', body: S.AccountCreate, response: { 201: Type.Object({ account: S.Account, credentials: S.Credentials }), ...errors } },
  }, async (request, reply) => {
    const { account, credentials } = await core.accounts.create(request.body);
    return reply.status(201).send({ account: accountView(core, account), credentials });
  });

  app.get('/accounts/:id', { schema: { tags: ['admin'], summary: 'Get an account', params: S.IdParams, response: { 200: S.Account, ...errors } } },
    async (request) => accountView(core, await core.accounts.get(request.params.id)));

  app.patch('/accounts/:id', { schema: { tags: ['admin'], summary: 'Change an account (name, time zone, quotas, service control)', params: S.IdParams, body: S.AccountUpdate, response: { 200: S.Account, ...errors } } },
    async (request) => accountView(core, await core.accounts.update(request.params.id, request.body)));

  app.post('/accounts/:id/rotate', {
    schema: { tags: ['admin'], summary: 'Replace one of the account’s secrets', params: S.IdParams, body: S.RotateBody, response: { 200: Type.Object({ secret: Type.String() }), ...errors } },
  }, async (request) => ({ secret: await core.accounts.rotate(request.params.id, request.body.secret) }));

  app.post('/service', {
    schema: { tags: ['admin'], summary: 'Control the media service as the operator', body: S.ServiceAction, response: { 200: S.ServiceState, ...errors, 503: S.ErrorResponse } },
  }, async (request) => {
    await controlService(core, 'operator', request.body.action);
    return core.service.status();
  });
}
