// The WebAuthn API's request bodies, checked field by field before anything reaches the WebAuthn library: a wrong
// type, an oversized value or text that is not base64url is a 400 here, never an exception (a 500) deeper down. The
// responses handed on are rebuilt from the checked fields only, so nothing unexpected rides along.
import type {
  AuthenticationExtensionsClientOutputs,
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';

/** A problem with the request, said in a few words fit for the JSON reply. */
export class BadInput extends Error {}

type Json = Record<string, unknown>;

/** Sizes in base64url characters: generous for real authenticators, small enough to bound the work. */
const LIMITS = {
  credentialId: 1366, // WebAuthn caps credential IDs at 1023 bytes
  clientDataJSON: 8192,
  attestationObject: 16384, // the JSON body parser stops at 16 kB anyway
  authenticatorData: 4096,
  signature: 2048, // an RSA-4096 signature is 683 characters
  userHandle: 88, // user handles are at most 64 bytes
  targetURL: 4096,
};

const BASE64URL = /^[A-Za-z0-9_-]*={0,2}$/;
const TRANSPORTS: ReadonlySet<string> = new Set(['usb', 'nfc', 'ble', 'internal', 'hybrid', 'cable', 'smart-card']);
const ATTACHMENTS: ReadonlySet<string> = new Set(['platform', 'cross-platform']);
const MAX_TRANSPORTS = 8;

/** The longest key name, in characters; the pages' name inputs say so too. */
export const DESCRIPTION_MAX_LENGTH = 64;
const DESCRIPTION_LENGTH_MESSAGE = `Give the key a name of 1 to ${DESCRIPTION_MAX_LENGTH} characters.`;
/** Control characters, line separators and bidirectional overrides: a key's name is shown in pages and emails. */
const FORBIDDEN_IN_DESCRIPTION = /[\p{Cc}\u2028\u2029\u202A-\u202E\u2066-\u2069]/u;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function object(value: unknown, name: string): Json {
  if (!isObject(value)) throw new BadInput(`${name} must be a JSON object.`);
  return value;
}

function base64url(value: unknown, name: string, max: number, options: { optional?: boolean; nonEmpty?: boolean } = {}): string | undefined {
  if ((value === undefined || value === null) && options.optional) return undefined;
  if (typeof value !== 'string' || value.length > max || !BASE64URL.test(value)) throw new BadInput(`${name} must be base64url text.`);
  if (options.nonEmpty !== false && value.length === 0) throw new BadInput(`${name} must not be empty.`);
  return value;
}

function optionalString(value: unknown, name: string, max: number): string | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value !== 'string') throw new BadInput(`${name} must be a string.`);
  if (value.length > max) throw new BadInput(`${name} must be at most ${max} characters long.`);
  return value;
}

/** Unknown transports (newer browsers) are dropped rather than refused; anything that is not a string list is refused. */
function transports(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.length > MAX_TRANSPORTS || !value.every((t) => typeof t === 'string' && t.length <= 32)) {
    throw new BadInput('transports must be a short list of strings.');
  }
  return [...new Set(value as string[])].filter((t) => TRANSPORTS.has(t));
}

function attachment(value: unknown): RegistrationResponseJSON['authenticatorAttachment'] {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > 32) throw new BadInput('authenticatorAttachment must be a string.');
  return ATTACHMENTS.has(value) ? (value as RegistrationResponseJSON['authenticatorAttachment']) : undefined;
}

/** Only the extension outputs Gatehouse reads (credProps.rk, appid), each with its type checked. */
function extensionResults(value: unknown): AuthenticationExtensionsClientOutputs {
  if (value === undefined || value === null) return {};
  const results = object(value, 'clientExtensionResults');
  const out: AuthenticationExtensionsClientOutputs = {};
  if (results.appid !== undefined) {
    if (typeof results.appid !== 'boolean') throw new BadInput('clientExtensionResults.appid must be a boolean.');
    out.appid = results.appid;
  }
  if (results.credProps !== undefined) {
    const credProps = object(results.credProps, 'clientExtensionResults.credProps');
    if (credProps.rk !== undefined && typeof credProps.rk !== 'boolean') throw new BadInput('credProps.rk must be a boolean.');
    out.credProps = credProps.rk === undefined ? {} : { rk: credProps.rk };
  }
  return out;
}

/** The parts every public key credential shares: id === rawId, type public-key. */
function credentialHeader(value: unknown): { id: string; rawId: string; inner: Json; outer: Json } {
  const outer = object(value, 'response');
  const id = base64url(outer.id, 'response.id', LIMITS.credentialId)!;
  const rawId = base64url(outer.rawId, 'response.rawId', LIMITS.credentialId)!;
  if (id !== rawId) throw new BadInput('response.id and response.rawId differ.');
  if (outer.type !== 'public-key') throw new BadInput('response.type must be "public-key".');
  return { id, rawId, inner: object(outer.response, 'response.response'), outer };
}

export function readRegistrationResponse(value: unknown): RegistrationResponseJSON {
  const { id, rawId, inner, outer } = credentialHeader(value);
  const checkedTransports = transports(inner.transports);
  const checkedAttachment = attachment(outer.authenticatorAttachment);
  return {
    id,
    rawId,
    type: 'public-key',
    response: {
      clientDataJSON: base64url(inner.clientDataJSON, 'clientDataJSON', LIMITS.clientDataJSON)!,
      attestationObject: base64url(inner.attestationObject, 'attestationObject', LIMITS.attestationObject)!,
      ...(checkedTransports ? { transports: checkedTransports } : {}),
    },
    ...(checkedAttachment ? { authenticatorAttachment: checkedAttachment } : {}),
    clientExtensionResults: extensionResults(outer.clientExtensionResults),
  };
}

export function readAuthenticationResponse(value: unknown): AuthenticationResponseJSON {
  const { id, rawId, inner, outer } = credentialHeader(value);
  const userHandle = base64url(inner.userHandle, 'userHandle', LIMITS.userHandle, { optional: true, nonEmpty: false }) || undefined;
  const checkedAttachment = attachment(outer.authenticatorAttachment);
  return {
    id,
    rawId,
    type: 'public-key',
    response: {
      clientDataJSON: base64url(inner.clientDataJSON, 'clientDataJSON', LIMITS.clientDataJSON)!,
      authenticatorData: base64url(inner.authenticatorData, 'authenticatorData', LIMITS.authenticatorData)!,
      signature: base64url(inner.signature, 'signature', LIMITS.signature)!,
      ...(userHandle ? { userHandle } : {}),
    },
    ...(checkedAttachment ? { authenticatorAttachment: checkedAttachment } : {}),
    clientExtensionResults: extensionResults(outer.clientExtensionResults),
  };
}

/** A key's name: trimmed, NFC, 1 to 64 characters, no control or direction-changing characters. */
export function readDescription(value: unknown): string {
  if (typeof value !== 'string' || value.length > DESCRIPTION_MAX_LENGTH * 4) throw new BadInput(DESCRIPTION_LENGTH_MESSAGE);
  const description = value.normalize('NFC').trim();
  const length = [...description].length;
  if (length === 0 || length > DESCRIPTION_MAX_LENGTH) throw new BadInput(DESCRIPTION_LENGTH_MESSAGE);
  if (FORBIDDEN_IN_DESCRIPTION.test(description)) throw new BadInput('The key name must not contain control characters.');
  return description;
}

export interface RegistrationBody {
  description: string;
  response: RegistrationResponseJSON;
}

export function readRegistrationBody(body: unknown): RegistrationBody {
  const b = object(body, 'The request body');
  return { description: readDescription(b.description), response: readRegistrationResponse(b.response) };
}

export interface SignInBody {
  response: AuthenticationResponseJSON;
  targetURL: string | undefined;
  requestMethod: string | undefined;
  keepMeLoggedIn: boolean;
}

/** `{response, targetURL?}` (SPEC §6); `requestMethod` and `keepMeLoggedIn` as `/api/firstfactor` takes them. */
export function readSignInBody(body: unknown): SignInBody {
  const b = object(body, 'The request body');
  if (!(b.keepMeLoggedIn === undefined || b.keepMeLoggedIn === null || typeof b.keepMeLoggedIn === 'boolean')) {
    throw new BadInput('keepMeLoggedIn must be a boolean.');
  }
  return {
    response: readAuthenticationResponse(b.response),
    targetURL: optionalString(b.targetURL, 'targetURL', LIMITS.targetURL),
    requestMethod: optionalString(b.requestMethod, 'requestMethod', 20),
    keepMeLoggedIn: b.keepMeLoggedIn === true,
  };
}

export function readRenameBody(body: unknown): string {
  return readDescription(object(body, 'The request body').description);
}

/** Storage IDs are positive integers; anything else names no key. */
export function readCredentialId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,14}$/.test(value)) return undefined;
  return Number(value);
}
