// Reading what Gatehouse sent: messages in a filesystem notifier's file, and raw MIME messages received by a test
// SMTP server. Enough MIME for our own messages (multipart, quoted-printable, base64), not a general parser.
import { existsSync, readFileSync } from 'node:fs';
import { MESSAGE_SEPARATOR } from '../../src/notify/filesystem-notifier.js';

export interface FileMessage {
  date: string;
  recipient: string;
  subject: string;
  /** The plain-text body. */
  body: string;
}

/** Every message in the file, oldest first; [] when the file does not exist yet. */
export function readMessages(filename: string): FileMessage[] {
  if (!existsSync(filename)) return [];
  const blocks = readFileSync(filename, 'utf8')
    .split(`\n${MESSAGE_SEPARATOR}\n`)
    .filter((block) => block.trim() !== '');
  return blocks.map((block) => {
    const split = block.indexOf('\n\n');
    const head = block.slice(0, split).split('\n');
    const header = (name: string) => head.find((line) => line.startsWith(`${name}: `))?.slice(name.length + 2) ?? '';
    return {
      date: header('Date'),
      recipient: header('Recipient'),
      subject: header('Subject'),
      body: block.slice(split + 2),
    };
  });
}

export function lastMessage(filename: string): FileMessage {
  const message = readMessages(filename).at(-1);
  if (!message) throw new Error(`no message in ${filename}`);
  return message;
}

/** The line of a plain-text body that is exactly a URL with this path (the link stands alone on its line). */
export function extractLink(body: string, path = '/webauthn/register'): string {
  const line = body.split(/\r?\n/).find((l) => /^https?:\/\/\S+$/.test(l) && new URL(l).pathname.endsWith(path));
  if (!line) throw new Error(`no ${path} link alone on a line in:\n${body}`);
  return line;
}

/** The `token` query parameter of the identity link in the newest message of the file. */
export function lastIdentityToken(filename: string): string {
  const token = new URL(extractLink(lastMessage(filename).body)).searchParams.get('token');
  if (!token) throw new Error('the identity link has no token');
  return token;
}

export interface MimePart {
  /** Lower-case header names; folded lines joined. */
  headers: Map<string, string>;
  /** Decoded body of a leaf part ('' for a multipart). */
  body: string;
  parts: MimePart[];
}

export function parseMime(raw: string): MimePart {
  const text = raw.replace(/\r\n/g, '\n');
  const split = text.indexOf('\n\n');
  const head = split < 0 ? text : text.slice(0, split);
  const rawBody = split < 0 ? '' : text.slice(split + 2);
  const headers = new Map<string, string>();
  for (const line of head.replace(/\n[ \t]+/g, ' ').split('\n')) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  const type = headers.get('content-type') ?? 'text/plain';
  const boundary = /boundary="?([^";]+)"?/i.exec(type)?.[1];
  if (/^multipart\//i.test(type) && boundary) {
    const sections = rawBody.split(`--${boundary}`);
    // sections[0] is the preamble; the last one starts with "--" (the closing delimiter).
    const parts = sections
      .slice(1)
      .filter((s) => !s.startsWith('--'))
      .map((s) => parseMime(s.replace(/^\n/, '')));
    return { headers, body: '', parts };
  }
  return { headers, body: decodeBody(rawBody, headers.get('content-transfer-encoding') ?? '7bit'), parts: [] };
}

function decodeBody(body: string, encoding: string): string {
  switch (encoding.toLowerCase()) {
    case 'quoted-printable': {
      const bytes = body
        .replace(/=\n/g, '')
        .replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
      return Buffer.from(bytes, 'latin1').toString('utf8');
    }
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

/** The leaf parts of a message, in order. */
export function leafParts(part: MimePart): MimePart[] {
  return part.parts.length === 0 ? [part] : part.parts.flatMap(leafParts);
}
