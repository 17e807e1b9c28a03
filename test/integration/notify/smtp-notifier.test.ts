// SPEC §3 `notifier.smtp`, §7: the SMTP notifier against a real SMTP server (smtp-server on loopback, with the
// test-only self-signed certificate under test/fixtures/tls/), asserting the message as received.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer as createTcpServer, type AddressInfo, type Server as TcpServer } from 'node:net';
import { SMTPServer, type SMTPServerOptions, type SMTPServerSession } from 'smtp-server';
import { configSchema } from '../../../src/config/schema.js';
import { SmtpNotifier, parseSmtpAddress, type SmtpConfig } from '../../../src/notify/smtp-notifier.js';
import { identityCheckMessage } from '../../../src/notify/templates.js';
import { leafParts, parseMime } from '../../helpers/mail.js';

const TLS_DIR = new URL('../../../../test/fixtures/tls/', import.meta.url);
const KEY = readFileSync(new URL('key.pem', TLS_DIR));
const CERT = readFileSync(new URL('cert.pem', TLS_DIR));
const USER = 'gatehouse';
const PASS = 'mail-password';
const LINK =
  'https://auth.example.com/webauthn/register?token=eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJhY3Rpb24iOiJyZWdpc3Rlcl93ZWJhdXRobiIsImlzcyI6ImdhdGVob3VzZSIsImF1ZCI6ImdhdGVob3VzZTppZGVudGl0eS12ZXJpZmljYXRpb24iLCJzdWIiOiJqb2huIn0.c2lnbmF0dXJlLXNpZ25hdHVyZS1zaWduYXR1cmU';

interface Received {
  from: string;
  to: string[];
  raw: string;
  secure: boolean;
  protocol: string | undefined;
  user: unknown;
  helo: string;
}

interface TestSmtpServer {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

type Kind = 'starttls' | 'implicit-tls' | 'plain';

/** A real SMTP server on loopback: STARTTLS offered, TLS from the start, or no TLS at all; AUTH PLAIN/LOGIN. */
async function startSmtpServer(kind: Kind, extra: Partial<SMTPServerOptions> = {}): Promise<TestSmtpServer> {
  const received: Received[] = [];
  const server = new SMTPServer({
    secure: kind === 'implicit-tls',
    key: KEY,
    cert: CERT,
    disabledCommands: kind === 'plain' ? ['STARTTLS'] : [],
    allowInsecureAuth: kind === 'plain',
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onAuth(auth, _session, callback) {
      if (auth.username === USER && auth.password === PASS) return callback(null, { user: auth.username });
      callback(new Error('Invalid username or password'));
    },
    onData(stream, session: SMTPServerSession, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString('utf8'),
          secure: session.secure,
          protocol: session.tlsOptions ? session.tlsOptions.version : undefined,
          user: session.user,
          helo: session.hostNameAppearsAs,
        });
        callback();
      });
    },
    ...extra,
  });
  server.on('error', () => {});
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.server.address() as AddressInfo).port;
  return { port, received, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** A parsed `notifier.smtp` section, defaults applied by the real schema. */
function smtpConfig(address: string, overrides: Record<string, unknown> = {}): SmtpConfig {
  const schema = configSchema.shape.notifier.unwrap().shape.smtp.unwrap();
  return schema.parse({ address, sender: 'Gatehouse <gatehouse@example.com>', timeout: '3s', ...overrides });
}

const credentials = { username: USER, password: PASS };
const trustSelfSigned = { tls: { skip_verify: true } };

function identityMessage() {
  const content = identityCheckMessage({
    username: 'john',
    displayName: 'John Doe',
    link: LINK,
    ip: '203.0.113.7',
    at: new Date(),
    validForSeconds: 300,
  });
  return { to: 'john.doe@example.com', toName: 'John Doe', ...content };
}

async function sendWith(config: SmtpConfig): Promise<void> {
  const notifier = new SmtpNotifier(config);
  try {
    await notifier.send(identityMessage());
  } finally {
    await notifier.close();
  }
}

/** The received message as the reader sees it: headers, the text part, the HTML part. */
function assertIdentityEmail(message: Received): void {
  assert.equal(message.from, 'gatehouse@example.com');
  assert.deepEqual(message.to, ['john.doe@example.com']);
  const mime = parseMime(message.raw);
  assert.equal(mime.headers.get('from'), 'Gatehouse <gatehouse@example.com>');
  assert.equal(mime.headers.get('to'), 'John Doe <john.doe@example.com>');
  assert.equal(mime.headers.get('subject'), '[Gatehouse] Confirm your identity');
  assert.match(mime.headers.get('content-type') ?? '', /^multipart\/alternative;/);
  const parts = leafParts(mime);
  assert.equal(parts.length, 2);
  const text = parts.find((p) => /^text\/plain/.test(p.headers.get('content-type') ?? ''));
  const html = parts.find((p) => /^text\/html/.test(p.headers.get('content-type') ?? ''));
  assert.ok(text && html, 'a text/plain and a text/html part');
  assert.ok(text.body.split(/\r?\n/).includes(LINK), 'the link alone on one line of the text part');
  assert.match(text.body, /If it wasn’t you, ignore this email/);
  assert.match(html.body, /<h1[^>]*>Confirm your identity<\/h1>/);
  assert.ok(html.body.includes(`href="${LINK}"`));
}

describe('SMTP notifier against a real SMTP server', () => {
  const servers: Record<Kind, TestSmtpServer> = {} as Record<Kind, TestSmtpServer>;
  beforeAll(async () => {
    for (const kind of ['starttls', 'implicit-tls', 'plain'] as const) servers[kind] = await startSmtpServer(kind);
  });
  afterAll(async () => {
    await Promise.all(Object.values(servers).map((s) => s.close()));
  });
  const last = (kind: Kind) => servers[kind].received.at(-1)!;
  const count = (kind: Kind) => servers[kind].received.length;

  it("parses addresses, with each scheme's default port", () => {
    assert.deepEqual(parseSmtpAddress('smtp://mail.example.com'), {
      scheme: 'smtp',
      host: 'mail.example.com',
      port: 25,
    });
    assert.deepEqual(parseSmtpAddress('submission://mail.example.com'), {
      scheme: 'submission',
      host: 'mail.example.com',
      port: 587,
    });
    assert.deepEqual(parseSmtpAddress('submissions://10.0.0.1:2465'), {
      scheme: 'submissions',
      host: '10.0.0.1',
      port: 2465,
    });
    assert.throws(() => parseSmtpAddress('http://mail.example.com'));
  });

  it('submission:// upgrades with STARTTLS, authenticates, and delivers a multipart identity email', async () => {
    await sendWith(
      smtpConfig(`submission://127.0.0.1:${servers.starttls.port}`, {
        ...credentials,
        ...trustSelfSigned,
        identifier: 'gatehouse.example.com',
      }),
    );
    const message = last('starttls');
    assert.equal(message.secure, true, 'STARTTLS was used');
    assert.equal(message.user, USER);
    assert.equal(message.helo, 'gatehouse.example.com', 'identifier is the EHLO name');
    assertIdentityEmail(message);
  });

  it('submissions:// speaks TLS from the start and authenticates', async () => {
    await sendWith(
      smtpConfig(`submissions://127.0.0.1:${servers['implicit-tls'].port}`, { ...credentials, ...trustSelfSigned }),
    );
    const message = last('implicit-tls');
    assert.equal(message.secure, true);
    assert.equal(message.user, USER);
    assertIdentityEmail(message);
  });

  it('smtp:// delivers in plain text to a server without TLS', async () => {
    await sendWith(smtpConfig(`smtp://127.0.0.1:${servers.plain.port}`));
    const message = last('plain');
    assert.equal(message.secure, false);
    assert.equal(message.user, undefined);
    assertIdentityEmail(message);
  });

  it('smtp:// upgrades with STARTTLS when the server offers it', async () => {
    await sendWith(smtpConfig(`smtp://127.0.0.1:${servers.starttls.port}`, trustSelfSigned));
    assert.equal(last('starttls').secure, true);
  });

  it('uses the configured subject template', async () => {
    await sendWith(
      smtpConfig(`submissions://127.0.0.1:${servers['implicit-tls'].port}`, {
        ...credentials,
        ...trustSelfSigned,
        subject: 'Acme SSO: {title}',
      }),
    );
    assert.equal(parseMime(last('implicit-tls').raw).headers.get('subject'), 'Acme SSO: Confirm your identity');
  });

  it('minimum_version TLS1.3 negotiates TLS 1.3', async () => {
    await sendWith(
      smtpConfig(`submissions://127.0.0.1:${servers['implicit-tls'].port}`, {
        ...credentials,
        tls: { skip_verify: true, minimum_version: 'TLS1.3' },
      }),
    );
    assert.equal(last('implicit-tls').protocol, 'TLSv1.3');
  });

  describe('refuses to deliver', () => {
    const refusals: Array<{ name: string; server: Kind; config: (port: number) => SmtpConfig }> = [
      {
        name: 'submission:// to a server that does not offer STARTTLS',
        server: 'plain',
        config: (port) => smtpConfig(`submission://127.0.0.1:${port}`, { ...credentials, ...trustSelfSigned }),
      },
      {
        name: 'wrong credentials (STARTTLS)',
        server: 'starttls',
        config: (port) =>
          smtpConfig(`submission://127.0.0.1:${port}`, { username: USER, password: 'wrong', ...trustSelfSigned }),
      },
      {
        name: 'wrong credentials (implicit TLS)',
        server: 'implicit-tls',
        config: (port) =>
          smtpConfig(`submissions://127.0.0.1:${port}`, { username: 'nobody', password: PASS, ...trustSelfSigned }),
      },
      {
        name: 'a self-signed certificate with skip_verify false (STARTTLS)',
        server: 'starttls',
        config: (port) => smtpConfig(`submission://127.0.0.1:${port}`, { ...credentials, tls: { skip_verify: false } }),
      },
      {
        name: 'a self-signed certificate with skip_verify false (implicit TLS)',
        server: 'implicit-tls',
        config: (port) =>
          smtpConfig(`submissions://127.0.0.1:${port}`, {
            ...credentials,
            tls: { skip_verify: false, server_name: 'localhost' },
          }),
      },
      {
        name: 'a self-signed certificate with skip_verify false (smtp:// upgrading)',
        server: 'starttls',
        config: (port) => smtpConfig(`smtp://127.0.0.1:${port}`),
      },
      {
        name: 'submissions:// to a server that does not speak TLS',
        server: 'plain',
        config: (port) => smtpConfig(`submissions://127.0.0.1:${port}`, trustSelfSigned),
      },
    ];
    for (const { name, server, config } of refusals) {
      it(name, async () => {
        const before = count(server);
        const notifier = new SmtpNotifier(config(servers[server].port));
        try {
          await assert.rejects(notifier.send(identityMessage()));
          await assert.rejects(notifier.startupCheck(), 'the startup check fails the same way');
        } finally {
          await notifier.close();
        }
        assert.equal(count(server), before, 'nothing was delivered');
      });
    }

    it('TLS below minimum_version', async () => {
      const old = await startSmtpServer('implicit-tls', { maxVersion: 'TLSv1.2' } as Partial<SMTPServerOptions>);
      try {
        await assert.rejects(
          sendWith(
            smtpConfig(`submissions://127.0.0.1:${old.port}`, {
              ...credentials,
              tls: { skip_verify: true, minimum_version: 'TLS1.3' },
            }),
          ),
        );
        await sendWith(
          smtpConfig(`submissions://127.0.0.1:${old.port}`, {
            ...credentials,
            tls: { skip_verify: true, minimum_version: 'TLS1.2' },
          }),
        );
        assert.equal(old.received.length, 1);
        assert.equal(old.received[0]!.protocol, 'TLSv1.2');
      } finally {
        await old.close();
      }
    });
  });

  describe('startup check', () => {
    it('passes against a server that accepts our credentials', async () => {
      const notifier = new SmtpNotifier(
        smtpConfig(`submission://127.0.0.1:${servers.starttls.port}`, { ...credentials, ...trustSelfSigned }),
      );
      try {
        await notifier.startupCheck();
      } finally {
        await notifier.close();
      }
    });

    it('fails when nothing listens', async () => {
      const closed = await startSmtpServer('plain');
      const port = closed.port;
      await closed.close();
      const notifier = new SmtpNotifier(smtpConfig(`smtp://127.0.0.1:${port}`));
      await assert.rejects(notifier.startupCheck());
      await notifier.close();
    });

    it('gives up after `timeout` on a server that never greets', async () => {
      const sockets = new Set<import('node:net').Socket>();
      const silent: TcpServer = createTcpServer((socket) => {
        sockets.add(socket);
      });
      await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
      const notifier = new SmtpNotifier(
        smtpConfig(`smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`, { timeout: '1s' }),
      );
      const started = Date.now();
      try {
        await assert.rejects(notifier.startupCheck());
        const elapsed = Date.now() - started;
        assert.ok(elapsed >= 900 && elapsed < 5_000, `gave up after ${elapsed} ms`);
      } finally {
        await notifier.close();
        for (const socket of sockets) socket.destroy();
        await new Promise<void>((resolve) => silent.close(() => resolve()));
      }
    });
  });
});
