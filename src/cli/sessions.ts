// `gatehouse sessions revoke USER`: ends every session of a user in Redis, on every replica at once (the session
// service lists each user's sessions; see session/service.ts). Only Redis can be reached from outside the server.
import type { Config } from '../config/schema.js';
import { createRedisSessionStore, describeRedisTarget } from '../session/redis-store.js';
import { SessionService } from '../session/service.js';
import { SessionStoreUnavailableError } from '../observability/backend-errors.js';
import { safeText } from '../text/safe-text.js';

export class SessionsCommandError extends Error {}

export async function revokeSessions(config: Config, username: string): Promise<string> {
  const redis = config.session.redis;
  if (redis === undefined) {
    throw new SessionsCommandError(
      'sessions are kept in the memory of the running server (no session.redis): restart it to end every session',
    );
  }
  const store = createRedisSessionStore(redis);
  try {
    // The secret is not used to delete, but the service needs one; with Redis it is always configured.
    const service = new SessionService(store, {
      secret: config.session.secret ?? 'unused',
      keyPrefix: redis.key_prefix,
    });
    const ended = await service.revokeUser(username);
    return `Ended ${ended} session${ended === 1 ? '' : 's'} of user '${safeText(username)}'`;
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
