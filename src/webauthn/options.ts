// The options handed to `navigator.credentials.create/get` (SPEC §6), from configuration and the user's keys.
import type {
  AuthenticationExtensionsClientInputs,
  PublicKeyCredentialCreationOptionsJSON,
  PublicKeyCredentialRequestOptionsJSON,
} from '@simplewebauthn/server';
import { webauthnLibrary } from './library.js';
import type { Config } from '../config/schema.js';
import type { CookieSettings } from '../config/cookies.js';
import type { WebAuthnCredential } from '../storage/storage.js';
import { SUPPORTED_ALGORITHMS } from './verify.js';

type WebAuthnConfig = Config['webauthn'];

/** The relying party: the portal's host name and origin (SPEC §6). */
export interface RelyingParty {
  id: string;
  origin: string;
}

/** SPEC §6: the RP ID is the portal's host name, the expected origin the portal's origin. */
export function relyingParty(cookie: CookieSettings): RelyingParty {
  return { id: cookie.portalUrl.hostname, origin: cookie.portalUrl.origin };
}

export interface RegistrationOptionsInput {
  rp: RelyingParty;
  username: string;
  displayName: string;
  /** The user's random WebAuthn user handle (base64url), never the username. */
  userHandle: string;
  existing: readonly WebAuthnCredential[];
}

const descriptor = (credential: WebAuthnCredential) => ({ id: credential.kid, transports: credential.transports });

export async function registrationOptions(
  config: WebAuthnConfig,
  input: RegistrationOptionsInput,
): Promise<PublicKeyCredentialCreationOptionsJSON> {
  const extensions: AuthenticationExtensionsClientInputs & { appidExclude?: string } = {};
  // A key enrolled through U2F answers only under its AppID: appidExclude stops it being enrolled a second time.
  if (input.existing.some((c) => c.legacyU2fAppid !== null)) extensions.appidExclude = input.rp.origin;
  const { generateRegistrationOptions } = await webauthnLibrary();
  const options = await generateRegistrationOptions({
    rpName: config.display_name,
    rpID: input.rp.id,
    userName: input.username,
    userDisplayName: input.displayName,
    userID: new Uint8Array(Buffer.from(input.userHandle, 'base64url')),
    timeout: config.timeout * 1000,
    excludeCredentials: input.existing.map(descriptor),
    // Discoverable when the authenticator can (so the key also works as a passkey), never demanded.
    authenticatorSelection: { residentKey: 'preferred', userVerification: config.user_verification },
    supportedAlgorithmIDs: SUPPORTED_ALGORITHMS,
    extensions,
  });
  // The library's type leaves out 'indirect', which the configuration (and WebAuthn) allow.
  return { ...options, attestation: config.attestation_conveyance_preference };
}

export interface AuthenticationOptionsInput {
  rp: RelyingParty;
  /** The user's keys for a second factor; empty for a passkey (the authenticator offers its discoverable ones). */
  allowed: readonly WebAuthnCredential[];
}

export async function authenticationOptions(
  config: WebAuthnConfig,
  input: AuthenticationOptionsInput,
): Promise<PublicKeyCredentialRequestOptionsJSON> {
  const { generateAuthenticationOptions } = await webauthnLibrary();
  const extensions: AuthenticationExtensionsClientInputs = {};
  // SPEC §6: keys registered through U2F with the portal URL as AppID sign over the AppID's hash.
  if (input.allowed.some((c) => c.legacyU2fAppid !== null)) extensions.appid = input.rp.origin;
  return generateAuthenticationOptions({
    rpID: input.rp.id,
    allowCredentials: input.allowed.map(descriptor),
    userVerification: config.user_verification,
    timeout: config.timeout * 1000,
    ...(extensions.appid ? { extensions } : {}),
  });
}
