// Issue 9 §2-§3: the guards the route table applies (src/web/guards.ts) refuse with the portal's one error type,
// and the error carries its log detail apart from what the client is told.
import { describe, it } from '@jest/globals';
import assert from 'node:assert/strict';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { PortalError } from '../../../src/web/errors.js';
import { GUARD_MESSAGES, requireElevation, requireLevel } from '../../../src/web/guards.js';
import type { SessionData } from '../../../src/session/model.js';

const NOW = 1_800_000_000_000;
const clock = { elevationLifetimeSeconds: 300, now: () => NOW };

function sessionWith(data: Partial<SessionData> | undefined) {
  return data === undefined ? undefined : { id: 'x', data: { username: 'ann', level: 1, ...data } };
}

/** What the guard passed to `next`: undefined to go on, or the refusal. */
function run(guard: RequestHandler | undefined, data: Partial<SessionData> | undefined): unknown {
  assert.ok(guard);
  let passed: unknown = 'not called';
  const res = { locals: { portal: { session: sessionWith(data) } } } as unknown as Response;
  guard({} as Request, res, ((error?: unknown) => {
    passed = error;
  }) as NextFunction);
  return passed;
}

function refusal(passed: unknown): [number, string] {
  assert.ok(passed instanceof PortalError);
  return [passed.status, passed.publicMessage];
}

describe('PortalError', () => {
  it('keeps the status, the public message and the log detail apart', () => {
    const error = new PortalError(401, 'Sign-in with this passkey failed.', 'banned');
    assert.equal(error.status, 401);
    assert.equal(error.publicMessage, 'Sign-in with this passkey failed.');
    assert.equal(error.message, error.publicMessage);
    assert.equal(error.logDetail, 'banned');
    assert.ok(!error.message.includes('banned'));
  });
});

describe('the signed-in level guard', () => {
  it('has nothing to check for anonymous routes', () => {
    assert.equal(requireLevel('anonymous'), undefined);
  });

  it('1FA: lets a signed-in session through, refuses none or a level-0 one with 401', () => {
    const guard = requireLevel('1FA');
    assert.equal(run(guard, { level: 1 }), undefined);
    assert.equal(run(guard, { level: 2 }), undefined);
    assert.deepEqual(refusal(run(guard, undefined)), [401, GUARD_MESSAGES.signInFirst]);
    assert.deepEqual(refusal(run(guard, { level: 0 })), [401, GUARD_MESSAGES.signInFirst]);
  });

  it('2FA: a level-1 session is asked for its second factor', () => {
    const guard = requireLevel('2FA');
    assert.equal(run(guard, { level: 2 }), undefined);
    assert.deepEqual(refusal(run(guard, { level: 1 })), [401, GUARD_MESSAGES.secondFactorFirst]);
    assert.deepEqual(refusal(run(guard, undefined)), [401, GUARD_MESSAGES.signInFirst]);
  });
});

describe('the elevation guard', () => {
  it('has nothing to check without elevation', () => {
    assert.equal(requireElevation('none', clock), undefined);
  });

  it('identity: only a running elevation passes', () => {
    const guard = requireElevation('identity', clock);
    assert.equal(run(guard, { elevatedUntil: NOW + 1 }), undefined);
    assert.deepEqual(refusal(run(guard, { elevatedUntil: NOW })), [403, GUARD_MESSAGES.notElevated]);
    assert.deepEqual(refusal(run(guard, { level: 2, secondFactorAt: NOW })), [403, GUARD_MESSAGES.notElevated]);
  });

  it('identity-or-2fa: a running elevation, or a second factor within the elevation lifetime', () => {
    const guard = requireElevation('identity-or-2fa', clock);
    assert.equal(run(guard, { elevatedUntil: NOW + 1 }), undefined);
    assert.equal(run(guard, { level: 2, secondFactorAt: NOW - 300_000 }), undefined);
    assert.deepEqual(refusal(run(guard, { level: 2, secondFactorAt: NOW - 300_001 })), [
      403,
      GUARD_MESSAGES.noRecentProof,
    ]);
    // A second factor recorded on a session that is no longer at level 2 does not count.
    assert.deepEqual(refusal(run(guard, { level: 1, secondFactorAt: NOW })), [403, GUARD_MESSAGES.noRecentProof]);
  });
});
