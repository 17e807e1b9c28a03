// SPEC §7: the filesystem notifier's file format, concurrent appends, the startup check; createNotifier's choice.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { FilesystemNotifier, MESSAGE_SEPARATOR } from '../../../src/notify/filesystem-notifier.js';
import { DEFAULT_SUBJECT_TEMPLATE, type NotificationMessage } from '../../../src/notify/notifier.js';
import { createNotifier } from '../../../src/notify/open.js';
import { SmtpNotifier } from '../../../src/notify/smtp-notifier.js';
import { readMessages } from '../../helpers/mail.js';

const message = (n: number, extra: Partial<NotificationMessage> = {}): NotificationMessage => ({
  to: 'john.doe@example.com',
  toName: 'John Doe',
  title: `Message ${n}`,
  text: `Line one of ${n}\n\nhttps://auth.example.com/x?n=${n}\n\nLast line of ${n}\n`,
  html: `<p>${n}</p>`,
  ...extra,
});

describe('filesystem notifier', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-notify-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('appends a header block, a blank line, the plain-text body and a separator, creating parent directories', async () => {
    const filename = join(dir, 'a', 'b', 'notification.txt');
    const notifier = new FilesystemNotifier({
      filename,
      subjectTemplate: DEFAULT_SUBJECT_TEMPLATE,
      now: () => new Date('2030-05-03T14:05:00Z'),
    });
    await notifier.send(message(1));
    await notifier.close();
    assert.equal(
      readFileSync(filename, 'utf8'),
      [
        'Date: Fri, 03 May 2030 14:05:00 GMT',
        'Recipient: John Doe <john.doe@example.com>',
        'Subject: [Gatehouse] Message 1',
        '',
        'Line one of 1',
        '',
        'https://auth.example.com/x?n=1',
        '',
        'Last line of 1',
        MESSAGE_SEPARATOR,
        '',
      ].join('\n'),
    );
  });

  it('writes dates that parse back', async () => {
    const filename = join(dir, 'dates.txt');
    const notifier = new FilesystemNotifier({ filename, subjectTemplate: '{title}' });
    const before = Date.now();
    await notifier.send(message(1));
    const [read] = readMessages(filename);
    assert.ok(Math.abs(Date.parse(read!.date) - before) < 5_000);
    assert.equal(read!.subject, 'Message 1');
  });

  it('keeps header values on one line: a name or title cannot forge a header', async () => {
    const filename = join(dir, 'forged.txt');
    const notifier = new FilesystemNotifier({ filename, subjectTemplate: DEFAULT_SUBJECT_TEMPLATE });
    await notifier.send(message(1, { toName: 'Eve\nSubject: forged', title: 'T\r\nRecipient: x' }));
    const head = readFileSync(filename, 'utf8').split('\n\n')[0]!.split('\n');
    assert.equal(head.length, 3);
    assert.equal(head[1], 'Recipient: Eve Subject: forged <john.doe@example.com>');
    assert.equal(head[2], 'Subject: [Gatehouse] T Recipient: x');
  });

  it('never interleaves messages sent at once, and keeps their order', async () => {
    const filename = join(dir, 'concurrent.txt');
    const notifier = new FilesystemNotifier({ filename, subjectTemplate: DEFAULT_SUBJECT_TEMPLATE });
    const bigBody = 'x'.repeat(200_000);
    await Promise.all(
      Array.from({ length: 60 }, (_, n) =>
        notifier.send(message(n, n % 10 === 0 ? { text: `${bigBody}\nend ${n}` } : {})),
      ),
    );
    const messages = readMessages(filename);
    assert.equal(messages.length, 60);
    messages.forEach((m, n) => {
      assert.equal(m.subject, `[Gatehouse] Message ${n}`);
      assert.ok(m.body.endsWith(n % 10 === 0 ? `end ${n}` : `Last line of ${n}`), `message ${n} intact`);
    });
  });

  it('reports a failed append to its sender and goes on with the next', async () => {
    const blocker = join(dir, 'a-file');
    writeFileSync(blocker, '');
    const broken = new FilesystemNotifier({ filename: join(blocker, 'notification.txt'), subjectTemplate: '{title}' });
    await assert.rejects(broken.send(message(1)));
    await assert.rejects(broken.startupCheck(), 'a path under a regular file cannot be created');
    const filename = join(dir, 'after-failure.txt');
    const notifier = new FilesystemNotifier({ filename, subjectTemplate: '{title}' });
    await notifier.startupCheck();
    assert.equal(readFileSync(filename, 'utf8'), '', 'the startup check creates the file without writing to it');
    await notifier.send(message(2));
    assert.equal(readMessages(filename).length, 1);
  });
});

describe('createNotifier', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'gatehouse-notify-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function capturingLogger(): { logger: Logger; lines: () => string[] } {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return {
      logger: pino({ level: 'info' }, stream) as Logger,
      lines: () => chunks.join('').split('\n').filter(Boolean),
    };
  }

  it('writes to the configured file', async () => {
    const filename = join(dir, 'fs', 'n.txt');
    const { logger } = capturingLogger();
    const notifier = createNotifier({ disable_startup_check: false, filesystem: { filename } }, logger);
    await notifier.startupCheck();
    await notifier.send(message(1));
    assert.equal(readMessages(filename)[0]?.subject, '[Gatehouse] Message 1');
  });

  it('skips the startup check when disable_startup_check is set', async () => {
    const blocker = join(dir, 'blocker');
    writeFileSync(blocker, '');
    const { logger } = capturingLogger();
    const config = { filesystem: { filename: join(blocker, 'n.txt') } };
    await assert.rejects(createNotifier({ ...config, disable_startup_check: false }, logger).startupCheck());
    await createNotifier({ ...config, disable_startup_check: true }, logger).startupCheck();
    assert.ok(!existsSync(join(blocker, 'n.txt')));
  });

  it('uses SMTP when configured, and warns about a password on smtp://', () => {
    const { logger, lines } = capturingLogger();
    const smtp = {
      address: 'smtp://127.0.0.1:2525',
      username: 'gatehouse',
      password: 'secret-password',
      sender: 'Gatehouse <gh@example.com>',
      identifier: 'localhost',
      subject: '{title}',
      timeout: 5,
      tls: { server_name: '', skip_verify: false, minimum_version: 'TLS1.2' as const },
    };
    const notifier = createNotifier({ disable_startup_check: false, smtp }, logger);
    assert.ok(notifier instanceof SmtpNotifier);
    assert.ok(lines().some((line) => line.includes('sent in clear')));
    assert.ok(
      lines().every((line) => !line.includes('secret-password')),
      'the password is never logged',
    );
    void notifier.close();
  });

  it('falls back to ./data/notification.txt with a warning when no notifier is configured', () => {
    const { logger, lines } = capturingLogger();
    createNotifier({ disable_startup_check: true }, logger);
    assert.ok(
      lines().some((line) => line.includes('no notifier configured') && line.includes('./data/notification.txt')),
    );
  });
});
