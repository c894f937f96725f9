// The baseline for bench/api.ts: a bare Fastify route doing nothing but answering, over the
// same kind of request (form body, Basic header) as getMeetingStatus.
import Fastify from 'fastify';
import formbody from '@fastify/formbody';

const app = Fastify({ logger: false });
await app.register(formbody);
app.post('/getMeetingStatus', async () => ({ resultcode: 1, status: '1' }));
await app.listen({ port: 0, host: '127.0.0.1' });
process.stdout.write(`listening on http://127.0.0.1:${app.server.address().port}\n`);
