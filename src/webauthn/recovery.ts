// Recovery codes (issue 11): a user with a key makes a set of ten single-use codes (shown once), and a code then
// stands in for a lost key as the second factor. Making a set needs the same emailed identity check as registering
// a key (the route table says so; checked here again); a new set voids the old one. A code used is spent atomically
// (two racing uses: one wins), the user is emailed, the attempt logged and counted by regulation like a password.
// A code raises the session to level 2 without counting as a key use: see docs/decisions.md.
import type { RecoveryCodeSet } from '../storage/storage.js';
import { recoveryCodesGeneratedMessage, recoveryCodeUsedMessage } from '../notify/templates.js';
import { PortalError } from '../web/errors.js';
import type { CeremonySteps, PortalRequest, SignedIn } from './ceremony.js';
import { MESSAGES } from './messages.js';
import { relyingParty } from './options.js';
import {
  generateRecoveryCodes,
  hashRecoveryCode,
  normaliseRecoveryCode,
  RECOVERY_CODE_COUNT,
} from './recovery-codes.js';

export const RECOVERY_MESSAGES = {
  noKeys: 'Register a security key first: recovery codes stand in for a key you lost.',
  malformed: 'A recovery code has 12 letters and digits, like abcd-efgh-jkmn.',
  invalid: 'This recovery code is not valid, or it was already used.',
  alreadyTwoFactors: 'You already passed the second factor here. A recovery code cannot replace a recent key check.',
} as const;

/** What the settings page and `GET /api/recovery-codes` show: how many codes are left, never the codes. */
export interface RecoveryCodesSummary {
  remaining: number;
  total: number;
  createdAt: Date | undefined;
}

export interface RecoveryCodeUse {
  code: string;
  targetURL?: string;
  requestMethod?: string;
}

/** The authentication log's type for a recovery code attempt (Authelia's log names each second factor). */
export const RECOVERY_AUTH_TYPE = 'RECOVERY_CODE';

export class RecoveryCodes {
  readonly #steps: CeremonySteps;

  constructor(steps: CeremonySteps) {
    this.#steps = steps;
  }

  async summary(req: PortalRequest): Promise<RecoveryCodesSummary> {
    const session = this.#steps.signedIn(req);
    return summaryOf(await this.#steps.deps.storage.findRecoveryCodeSet(session.data.username));
  }

  /** A new set for the signed-in, elevated user who has a key: the codes, once. */
  async generate(req: PortalRequest): Promise<{ codes: string[]; createdAt: Date; remaining: number }> {
    const steps = this.#steps;
    const session = steps.signedIn(req);
    if (!((session.data.elevatedUntil ?? 0) > steps.now())) throw new PortalError(403, MESSAGES.notElevated);
    const username = session.data.username;
    if (steps.activeUser(username) === undefined) throw new PortalError(401, MESSAGES.notSignedIn);
    const keys = await steps.deps.storage.listWebAuthnCredentials(username, relyingParty(req.cookie).id);
    if (keys.length === 0) throw new PortalError(400, RECOVERY_MESSAGES.noKeys);
    const { codes, salt, hashes } = generateRecoveryCodes();
    const createdAt = new Date(steps.now());
    await steps.deps.storage.replaceRecoveryCodes({ username, createdAt, salt, hashes });
    steps.events.recoveryCodesGenerated({ remoteIp: req.ip, user: username, count: codes.length });
    await steps.securityEmail(session, req, 'recovery code', (input) =>
      recoveryCodesGeneratedMessage({ ...input, count: codes.length }),
    );
    return { codes, createdAt, remaining: codes.length };
  }

  /** A code as the second factor; every attempt by a signed-in user is a security event and an authentication log row. */
  async use(req: PortalRequest, body: RecoveryCodeUse): Promise<SignedIn & { remaining: number }> {
    const steps = this.#steps;
    const session = steps.signedIn(req);
    if (session.data.firstFactor === 'passkey' && session.data.level < 2)
      throw new PortalError(400, MESSAGES.passwordNext);
    // Nothing to gain, and a code would be spent for nothing (a step-up needs a key: docs/decisions.md).
    if (session.data.level >= 2) throw new PortalError(400, RECOVERY_MESSAGES.alreadyTwoFactors);
    // The format is public: a typo is said at once, spends nothing and counts nothing.
    const normalised = normaliseRecoveryCode(body.code);
    if (normalised === undefined) throw new PortalError(400, RECOVERY_MESSAGES.malformed);

    const { regulator, storage } = steps.deps;
    const username = session.data.username;
    const attempt = {
      username,
      ip: req.ip,
      authType: RECOVERY_AUTH_TYPE,
      requestUri: loggableTarget(body.targetURL),
      requestMethod: body.requestMethod ?? '',
    };
    const fail = (reason: string) =>
      steps.events.secondFactor({
        remoteIp: req.ip,
        method: 'recovery_code',
        user: username,
        outcome: 'failure',
        reason,
      });

    const user = steps.activeUser(username);
    if (user === undefined) {
      fail('user_disabled');
      throw new PortalError(401, MESSAGES.notSignedIn);
    }
    if (await regulator.isBanned(username, req.ip)) {
      await regulator.record({ ...attempt, successful: false, banned: true });
      fail('banned');
      // Silent, as for a password or a passkey: the same words as a wrong code, and no code is spent.
      throw new PortalError(401, RECOVERY_MESSAGES.invalid);
    }
    const set = await storage.findRecoveryCodeSet(username);
    const now = new Date(steps.now());
    const spent =
      set !== undefined && (await storage.useRecoveryCode(set.id, hashRecoveryCode(set.salt, normalised), now, req.ip));
    if (!spent) {
      const banStarted = await regulator.record({ ...attempt, successful: false });
      fail(set === undefined ? 'no_codes' : 'wrong_code');
      if (banStarted)
        steps.events.ban({
          remoteIp: req.ip,
          method: 'recovery_code',
          user: username,
          banTimeSeconds: regulator.banTimeSeconds,
        });
      throw new PortalError(401, RECOVERY_MESSAGES.invalid);
    }
    await regulator.record({ ...attempt, successful: true });
    const next = await steps.deps.signIn.establish(
      req.session,
      user,
      2,
      session.data.rememberMe,
      req.cookie,
      'password',
      false,
    );
    steps.events.secondFactor({ remoteIp: req.ip, method: 'recovery_code', user: username, outcome: 'success' });
    const remaining = (await storage.findRecoveryCodeSet(username))?.remaining ?? 0;
    steps.deps.logger.info({ username, recovery_code_set: set.id, remaining }, 'recovery code used');
    await steps.securityEmail(session, req, 'recovery code', (input) =>
      recoveryCodeUsedMessage({ ...input, remaining }),
    );
    const redirect = steps.deps.signIn.nextLocation(body.targetURL, body.requestMethod, user, 2, req.cookie, req.ip);
    return { session: next, level: 2, redirect, remaining };
  }
}

function summaryOf(set: RecoveryCodeSet | undefined): RecoveryCodesSummary {
  return set === undefined
    ? { remaining: 0, total: 0, createdAt: undefined }
    : { remaining: set.remaining, total: RECOVERY_CODE_COUNT, createdAt: set.createdAt };
}

/** The target as the authentication log keeps it: origin and path only (a query can hold a one-time token). */
function loggableTarget(target: string | undefined): string {
  if (target === undefined) return '';
  try {
    const url = new URL(target);
    return `${url.origin}${url.pathname}`.slice(0, 2048);
  } catch {
    return '';
  }
}
