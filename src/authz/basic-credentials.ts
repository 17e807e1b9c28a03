// HTTP Basic credentials sent by API clients to the authz endpoints (SPEC §4).
export type BasicCredentials = { username: string; password: string };

/** undefined when no such header; 'malformed' when present but not valid Basic credentials. */
export function parseBasicCredentials(header: string | string[] | undefined): BasicCredentials | 'malformed' | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string' || header.length > 4096) return 'malformed';
  const match = /^Basic[ ]+([A-Za-z0-9+/]+={0,2})[ ]*$/i.exec(header);
  if (!match) return 'malformed';
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return 'malformed';
  const username = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (/[\u0000-\u001f\u007f]/.test(username) || password.length === 0) return 'malformed';
  return { username, password };
}
