// An upstream app that trusts Gatehouse's signed identity token rather than a bare Remote-User header: it verifies
// the token in the header the proxy copies from Gatehouse's answer (signature against Gatehouse's published keys,
// issuer, audience = this app's own origin, expiry) and refuses the request otherwise.
//
//   JWKS_URL=http://gatehouse:9091/.well-known/jwks.json \
//   ISSUER=https://auth.example.com AUDIENCE=https://app.example.com \
//   node server.mjs
import { createServer } from 'node:http';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const config = {
  jwksUrl: required('JWKS_URL'),
  issuer: required('ISSUER'),
  audience: required('AUDIENCE'),
  header: (process.env.HEADER ?? 'Remote-JWT').toLowerCase(),
  host: process.env.HOST ?? '127.0.0.1',
  port: Number(process.env.PORT ?? 8080),
};

// Fetched once, cached, and fetched again when a token names a key it does not know (a rotation).
const keys = createRemoteJWKSet(new URL(config.jwksUrl));

function required(name) {
  const value = process.env[name];
  if (!value) {
    console.error(`${name} is required`);
    process.exit(2);
  }
  return value;
}

const server = createServer(async (req, res) => {
  const token = req.headers[config.header];
  if (typeof token !== 'string' || token === '') return reply(res, 401, { error: 'no identity token' });
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: ['ES256', 'EdDSA'],
      typ: 'JWT',
      clockTolerance: 5,
      requiredClaims: ['sub', 'exp', 'iat'],
    });
    // The identity is the token's, never the plain Remote-* headers.
    reply(res, 200, {
      user: payload.sub,
      name: payload.name,
      email: payload.email,
      groups: payload.groups,
      amr: payload.amr,
      auth_time: payload.auth_time,
      path: req.url,
    });
  } catch (error) {
    reply(res, 401, { error: 'invalid identity token', reason: error.code ?? 'ERR_INVALID' });
  }
});

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

server.listen(config.port, config.host, () => {
  const address = server.address();
  console.log(`jwt-upstream listening on ${address.address}:${address.port}`);
});

for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => server.close(() => process.exit(0)));
