// Peers for bench/server.mjs: the least a signed APIv3 answer can cost in Node.js on this machine, measured
// in the same run as the sandbox. Each verifies the request's signature over the raw target (on the event
// loop, with the merchant's parsed key from memory), signs the answer on libuv's thread pool (one thread
// per core, sized by the parent's environment) with the SDK's own protocol functions, and answers a
// notify-setting body; nothing else: no database, nonce store, rate limit, log, metrics or dashboard feed.
//   node bench/lib/peer-server.mjs http     node:http alone
//   node bench/lib/peer-server.mjs fastify  Fastify, the work in preValidation and onSend hooks as the sandbox does it
// PEER_KEYS: JSON { mchid: public key PEM }. Prints the base URL on its first line.
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import {
  buildRequestSigningString,
  loadPublicKey,
  parseAuthorization,
  signResponseAsync,
  verifyMessage,
} from '@wechatpay-sandbox/sdk/protocol';
import Fastify from 'fastify';

const kind = process.argv[2];
const keys = new Map(
  Object.entries(JSON.parse(process.env.PEER_KEYS ?? '{}')).map(([mchid, pem]) => [
    mchid,
    loadPublicKey(pem),
  ]),
);
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const SERIAL = 'PUB_KEY_ID_0100000000000000000000000000000000';

/** The merchant whose signature over the request verifies, or undefined. */
function verified(method, target, authorization, body) {
  const parsed = parseAuthorization(authorization);
  if (!parsed.ok) return undefined;
  const { mchid, timestamp, nonce, signature } = parsed.params;
  const key = keys.get(mchid);
  const message = buildRequestSigningString({ method, canonicalUrl: target, timestamp, nonce, body });
  return key && verifyMessage(message, signature, key) ? mchid : undefined;
}

const answer = (mchid) => JSON.stringify({ notify_url: `https://merchant.example.com/${mchid}`, mchid });
const sign = (body) =>
  signResponseAsync({
    body,
    timestamp: Math.floor(Date.now() / 1000),
    nonce: randomBytes(16).toString('hex'),
    serial: SERIAL,
    privateKey,
  });

let port;
if (kind === 'http') {
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const mchid = verified(
        req.method,
        req.url,
        req.headers.authorization,
        Buffer.concat(chunks).toString(),
      );
      if (!mchid) {
        res.writeHead(401, { 'Content-Type': 'application/json' }).end('{"code":"SIGN_ERROR"}');
        return;
      }
      const body = answer(mchid);
      const headers = await sign(body);
      res.writeHead(200, {
        ...headers,
        'Content-Type': 'application/json',
        'Content-Length': Buffer.byteLength(body),
        'Request-ID': randomBytes(16).toString('hex'),
      });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise((listening) => server.listen(0, '127.0.0.1', listening));
  port = server.address().port;
} else if (kind === 'fastify') {
  const app = Fastify({ logger: false, genReqId: () => randomBytes(16).toString('hex') });
  app.addHook('onRequest', async (request, reply) => {
    reply.header('Request-ID', request.id);
  });
  app.addHook('preValidation', async (request, reply) => {
    request.mchid = verified(request.method, request.raw.url, request.headers.authorization, '');
    if (!request.mchid) return reply.code(401).send({ code: 'SIGN_ERROR' });
  });
  app.addHook('onSend', async (_request, reply, payload) => {
    if (reply.statusCode !== 200) return payload;
    reply.headers(await sign(payload));
    return payload;
  });
  app.get('/v3/marketing/busifavor/callbacks', async (request, reply) => {
    reply.type('application/json');
    return answer(request.mchid);
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  port = app.server.address().port;
} else {
  throw new Error(`unknown peer "${kind}": http or fastify`);
}
process.stdout.write(`http://127.0.0.1:${port}\n`);
