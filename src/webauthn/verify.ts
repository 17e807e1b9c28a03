// The two WebAuthn checks, as pure functions over @simplewebauthn/server: what the relying party expected in, a
// verdict out. Every library exception becomes a refusal with its reason (for the log, not for the visitor), so no
// malformed response can surface as a 500. Gatehouse's own rules sit here too: the response's id must be the
// credential it carries, the U2F AppID is accepted only for keys registered under one, and the sign counter rule.
import type {
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
} from '@simplewebauthn/server';
import { webauthnLibrary } from './library.js';

/** What this relying party asked for: its challenge, origin and RP ID (SPEC §6). */
export interface Expected {
  challenge: string;
  origin: string;
  rpId: string;
  requireUserVerification: boolean;
}

/** The algorithms offered at registration and accepted at verification: EdDSA, ES256, RS256 (COSE IDs). */
export const SUPPORTED_ALGORITHMS = [-8, -7, -257];

export type Verdict<T> = { verified: true; value: T } | { verified: false; reason: string; cloned?: boolean };

export interface RegisteredKey {
  /** base64url */
  credentialId: string;
  /** COSE */
  publicKey: Uint8Array;
  counter: number;
  aaguid: string;
  /** The attestation statement format: none, packed, fido-u2f, tpm, android-key, apple, ... */
  format: string;
  userVerified: boolean;
  backupEligible: boolean;
  backupState: boolean;
  attestationObject: Uint8Array;
  transports: string[];
  /** 'platform', 'cross-platform' or '' when the browser did not say. */
  attachment: string;
  /** From the credProps extension; false when the browser did not say. */
  discoverable: boolean;
}

const refuse = (reason: string, cloned?: boolean): Verdict<never> => ({
  verified: false,
  reason,
  ...(cloned ? { cloned } : {}),
});
const reasonOf = (error: unknown) => (error instanceof Error ? error.message : String(error)).slice(0, 300);

export async function verifyRegistration(
  response: RegistrationResponseJSON,
  expected: Expected,
): Promise<Verdict<RegisteredKey>> {
  let result: Awaited<ReturnType<typeof verifyRegistrationResponse>>;
  try {
    const { verifyRegistrationResponse } = await webauthnLibrary();
    result = await verifyRegistrationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: expected.origin,
      expectedRPID: expected.rpId,
      requireUserPresence: true,
      requireUserVerification: expected.requireUserVerification,
      supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    });
  } catch (error) {
    return refuse(reasonOf(error));
  }
  if (!result.verified) return refuse('attestation statement did not verify');
  const info = result.registrationInfo;
  // The library trusts `response.id`; the key is stored under the ID the authenticator signed, so they must agree.
  if (info.credential.id !== response.id) return refuse('response.id is not the credential ID in authenticatorData');
  return {
    verified: true,
    value: {
      credentialId: info.credential.id,
      publicKey: info.credential.publicKey,
      counter: info.credential.counter,
      aaguid: info.aaguid.toLowerCase(),
      format: info.fmt,
      userVerified: info.userVerified,
      backupEligible: info.credentialDeviceType === 'multiDevice',
      backupState: info.credentialBackedUp,
      attestationObject: info.attestationObject,
      transports: response.response.transports ?? [],
      attachment: response.authenticatorAttachment ?? '',
      discoverable: response.clientExtensionResults.credProps?.rk === true,
    },
  };
}

/** The stored facts an assertion is checked against. */
export interface StoredKey {
  /** base64url credential ID */
  id: string;
  /** COSE */
  publicKey: Uint8Array;
  counter: number;
  /** The FIDO U2F AppID the key was registered under, for keys enrolled through U2F; else null. */
  legacyU2fAppid: string | null;
}

export interface Assertion {
  newCounter: number;
  userVerified: boolean;
  backupEligible: boolean;
  backupState: boolean;
}

export async function verifyAssertion(
  response: AuthenticationResponseJSON,
  expected: Expected,
  stored: StoredKey,
): Promise<Verdict<Assertion>> {
  if (response.id !== stored.id) return refuse('the response is for another credential');
  // WebAuthn §10.1.1: when the browser says it used the AppID, authenticatorData carries SHA-256(AppID) instead of
  // SHA-256(RP ID). Only a key registered through U2F may take that path (SPEC §6).
  const usedAppid = response.clientExtensionResults.appid === true;
  if (usedAppid && stored.legacyU2fAppid === null)
    return refuse('the AppID extension was used for a key not registered through U2F');
  let result: Awaited<ReturnType<typeof verifyAuthenticationResponse>>;
  try {
    const { verifyAuthenticationResponse } = await webauthnLibrary();
    result = await verifyAuthenticationResponse({
      response,
      expectedChallenge: expected.challenge,
      expectedOrigin: expected.origin,
      expectedRPID: usedAppid ? stored.legacyU2fAppid! : expected.rpId,
      requireUserVerification: expected.requireUserVerification,
      // Counter 0 turns the library's own counter check off: it runs before the signature check, and only a
      // verified signature may mark a key as cloned (else anyone could flag someone's key). Checked below.
      credential: { id: stored.id, publicKey: new Uint8Array(stored.publicKey), counter: 0 },
    });
  } catch (error) {
    return refuse(reasonOf(error));
  }
  if (!result.verified) return refuse('signature did not verify');
  const { newCounter, userVerified, credentialDeviceType, credentialBackedUp } = result.authenticationInfo;
  if (!counterAdvanced(stored.counter, newCounter)) {
    return refuse(`sign counter went from ${stored.counter} to ${newCounter}: possibly a cloned authenticator`, true);
  }
  return {
    verified: true,
    value: {
      newCounter,
      userVerified,
      backupEligible: credentialDeviceType === 'multiDevice',
      backupState: credentialBackedUp,
    },
  };
}

/** SPEC §6: a counter must increase whenever the stored or the received one is non-zero (both zero: no counter). */
export function counterAdvanced(stored: number, received: number): boolean {
  return (stored === 0 && received === 0) || received > stored;
}
