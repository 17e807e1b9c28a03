// `gatehouse sessions list|revoke --user USER` (and the older `sessions revoke USER`): a user's sessions in Redis,
// listed or ended on every replica at once (the session service lists each user's sessions; see
// session/service.ts). Only Redis can be reached from outside the server.
import type { Config } from '../config/schema.js';
import { resolveCookies } from '../config/cookies.js';
import { createRedisSessionStore, describeRedisTarget, type RedisConfig } from '../session/redis-store.js';
import { type ListedSession, SessionService } from '../session/service.js';
import { SessionStoreUnavailableError } from '../observability/backend-errors.js';
import { safeText } from '../text/safe-text.js';

export class SessionsCommandError extends Error {}

/** Opens Redis, runs `work` over a session service, closes; an unreachable Redis is one line naming it. */
async function withSessions<T>(config: Config, work: (service: SessionService) => Promise<T>): Promise<T> {
  const redis: RedisConfig | undefined = config.session.redis;
  if (redis === undefined) {
    throw new SessionsCommandError(
      'sessions are kept in the memory of the running server (no session.redis): they cannot be reached from here; restart it to end every session',
    );
  }
  const store = createRedisSessionStore(redis);
  try {
    // Revoking needs no secret; listing decrypts, and with Redis the secret is always configured.
    const service = new SessionService(store, {
      secret: config.session.secret ?? 'unused',
      keyPrefix: redis.key_prefix,
    });
    return await work(service);
  } catch (error) {
    if (error instanceof SessionStoreUnavailableError) {
      const cause = error.cause instanceof Error ? `: ${error.cause.message}` : '';
      throw new SessionsCommandError(`${describeRedisTarget(redis)} did not answer${cause}`);
    }
    throw error;
  } finally {
    await store.close();
  }
}

export function revokeSessions(config: Config, username: string): Promise<string> {
  return withSessions(config, async (service) => {
    const ended = await service.revokeUser(username);
    return `Ended ${ended} session${ended === 1 ? '' : 's'} of user '${safeText(username)}'`;
  });
}

/** Seconds precision, UTC: `2026-11-27 18:04:05Z`. */
function when(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')}Z`;
}

const HEADERS = ['HANDLE', 'BROWSER / OS', 'ADDRESS', 'FIRST SEEN', 'LAST SEEN', 'LEVEL', 'COOKIE DOMAIN'];

function row(s: ListedSession): string[] {
  return [
    s.handle,
    `${s.browser ?? 'unknown'} / ${s.os ?? 'unknown'}`,
    s.address ?? 'unknown',
    when(s.createdAt),
    when(s.lastActivity) + (s.rememberMe ? ' (remembered)' : ''),
    s.level === 2 ? 'two_factor' : 'one_factor',
    s.cookieDomain,
  ];
}

/** The user's live sessions as a table (one line when there are none). */
export function listSessions(config: Config, username: string): Promise<string> {
  const cookies = resolveCookies(config);
  const cookieFor = (domain: string) => cookies.find((cookie) => cookie.domain === domain);
  return withSessions(config, async (service) => {
    const listed = await service.listUser(username, cookieFor);
    if (listed.length === 0) return `User '${safeText(username)}' has no live sessions`;
    const rows = [HEADERS, ...listed.map(row)];
    const widths = HEADERS.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
    return rows
      .map((cells) =>
        cells
          .map((cell, i) => cell.padEnd(widths[i]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n');
  });
}
