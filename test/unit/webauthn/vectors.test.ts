// SPEC §6 against recorded authenticator responses (test/fixtures/webauthn-vectors): every vector goes through
// Gatehouse's own input reading and verification (src/webauthn/input.ts, verify.ts), at a clock where its
// certificates are valid, and must reach its expected outcome; every mutation (wrong challenge, origin, RP ID) must
// be refused; on today's clock, vectors with expired certificates are refused as the README observed.
import { describe, it, beforeAll, afterAll } from '@jest/globals';
import assert from 'node:assert/strict';
import { readAuthenticationResponse, readRegistrationResponse } from '../../../src/webauthn/input.js';
import { verifyAssertion, verifyRegistration, type Expected, type Verdict } from '../../../src/webauthn/verify.js';
import { loadVectors, type Vector } from './recorded-vectors.js';

const DAY_MS = 86_400_000;

/**
 * The instant to verify at: the vector's own `verifyAt`; for a chain that has expired since the vectors were made,
 * a day before it ends; else the real clock.
 */
function verificationClock(vector: Vector): number | undefined {
  const clock = vector.expectedOutcome.clock;
  if (clock.verifyAt) return Date.parse(clock.verifyAt);
  if (clock.dependsOnClock && clock.x5cValidTo && Date.now() > Date.parse(clock.x5cValidTo))
    return Date.parse(clock.x5cValidTo) - DAY_MS;
  return undefined;
}

/** Runs `fn` with `Date` (and `Date.now`) fixed at `at`: the library reads the clock for certificate validity. */
async function atClock<T>(at: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (at === undefined) return fn();
  const RealDate = Date;
  class FixedDate extends RealDate {
    constructor(...args: unknown[]) {
      if (args.length === 0) super(at!);
      else super(...(args as [string]));
    }
    static override now(): number {
      return at!;
    }
  }
  globalThis.Date = FixedDate as DateConstructor;
  try {
    return await fn();
  } finally {
    globalThis.Date = RealDate;
  }
}

function verify(vector: Vector, expected: Expected): Promise<Verdict<unknown>> {
  if (vector.kind === 'registration') return verifyRegistration(readRegistrationResponse(vector.response), expected);
  const stored = vector.storedCredential!;
  return verifyAssertion(readAuthenticationResponse(vector.response), expected, {
    id: stored.id,
    publicKey: Buffer.from(stored.publicKey, 'base64url'),
    counter: stored.counter,
    legacyU2fAppid: null,
  });
}

const b64u = (bytes: Uint8Array) => Buffer.from(bytes).toString('base64url');

/** The facts our verifier extracted, in the vectors' vocabulary. */
function extracted(vector: Vector, value: Record<string, unknown>): Record<string, unknown> {
  if (vector.kind === 'registration') {
    return {
      fmt: value.format,
      credentialId: value.credentialId,
      publicKey: b64u(value.publicKey as Uint8Array),
      counter: value.counter,
      userVerified: value.userVerified,
      aaguid: value.aaguid,
      credentialDeviceType: value.backupEligible ? 'multiDevice' : 'singleDevice',
      credentialBackedUp: value.backupState,
    };
  }
  return {
    newCounter: value.newCounter,
    userVerified: value.userVerified,
    credentialDeviceType: value.backupEligible ? 'multiDevice' : 'singleDevice',
    credentialBackedUp: value.backupState,
  };
}

describe('recorded WebAuthn vectors through Gatehouse verification (SPEC §6)', () => {
  const vectors = loadVectors();
  const realFetch = globalThis.fetch;
  // Certificate revocation lists named in attestation certificates are fetched by the library; the tests run
  // offline, and a failed fetch counts as "not revoked" there.
  beforeAll(() => {
    globalThis.fetch = (async () => {
      throw new Error('no network in unit tests');
    }) as typeof fetch;
  });
  afterAll(() => {
    globalThis.fetch = realFetch;
  });

  it('finds the 20 vectors', () => {
    assert.equal(vectors.length, 20);
  });

  for (const vector of vectors) {
    describe(vector.id, () => {
      const clock = verificationClock(vector);

      it(`is ${vector.expectedOutcome.verified ? 'accepted at its clock, with the expected facts' : 'refused at its clock'}`, async () => {
        const verdict = await atClock(clock, () => verify(vector, vector.expected));
        assert.equal(verdict.verified, vector.expectedOutcome.verified, verdict.verified ? 'accepted' : verdict.reason);
        if (verdict.verified && vector.expectedOutcome.result) {
          const want = { ...vector.expectedOutcome.result };
          assert.deepEqual(extracted(vector, verdict.value as Record<string, unknown>), want);
        }
      });

      for (const mutation of vector.mutations ?? []) {
        it(`refuses the ${mutation.name} mutation`, async () => {
          const verdict = await atClock(clock, () => verify(vector, { ...vector.expected, ...mutation.expected }));
          assert.equal(verdict.verified, false);
        });
      }

      const observed = vector.observed?.atRealClock;
      if (clock !== undefined) {
        it('is refused on the real clock (its certificates or timestamp have expired)', async () => {
          if (observed !== undefined) assert.equal(observed.verified, false);
          const verdict = await verify(vector, vector.expected);
          assert.equal(verdict.verified, false);
        });
      }

      if (vector.kind === 'registration' && vector.expectedOutcome.result?.userVerified === false) {
        it('is refused when user verification is required (its UV flag is clear)', async () => {
          const verdict = await atClock(clock, () =>
            verify(vector, { ...vector.expected, requireUserVerification: true }),
          );
          assert.equal(verdict.verified, false);
        });
      }
    });
  }

  it('marks the counter replay as a possible clone, and only it', async () => {
    for (const vector of vectors.filter((v) => v.kind === 'authentication')) {
      const verdict = await verify(vector, vector.expected);
      const cloned = !verdict.verified && verdict.cloned === true;
      assert.equal(cloned, vector.id === 'auth-es256-counter-replay', vector.id);
    }
  });
});
