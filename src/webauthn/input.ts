// The WebAuthn API's request bodies, read through zod schemas before anything reaches the WebAuthn library: a wrong
// type, an oversized value or text that is not base64url is a 400 here, never an exception (a 500) deeper down. The
// responses handed on are rebuilt from the checked fields only (unknown fields are dropped), so nothing unexpected
// rides along.
import { z } from 'zod';
import type {
  AuthenticationExtensionsClientOutputs,
  AuthenticationResponseJSON,
  RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { optionalFlag, optionalText, parseBody } from '../web/body.js';

/** Sizes in base64url characters: generous for real authenticators, small enough to bound the work. */
const LIMITS = {
  credentialId: 1366, // WebAuthn caps credential IDs at 1023 bytes
  clientDataJSON: 8192,
  attestationObject: 16384, // the JSON body parser stops at 16 kB anyway
  authenticatorData: 4096,
  signature: 2048, // an RSA-4096 signature is 683 characters
  userHandle: 88, // user handles are at most 64 bytes
  targetURL: 4096,
  requestMethod: 32,
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

function object<T extends z.ZodRawShape>(name: string, shape: T) {
  return z.object(shape, { error: `${name} must be a JSON object.` });
}

function base64url(name: string, max: number) {
  const message = `${name} must be base64url text.`;
  return z.string({ error: message }).max(max, { error: message }).regex(BASE64URL, { error: message });
}

const nonEmptyBase64url = (name: string, max: number) =>
  base64url(name, max).min(1, { error: `${name} must not be empty.` });

function boolean(name: string) {
  return z.boolean({ error: `${name} must be a boolean.` });
}

/** Unknown transports (newer browsers) are dropped rather than refused; anything that is not a string list is refused. */
const transports = z
  .array(
    z
      .string({ error: 'transports must be a short list of strings.' })
      .max(32, { error: 'transports must be a short list of strings.' }),
    {
      error: 'transports must be a short list of strings.',
    },
  )
  .max(MAX_TRANSPORTS, { error: 'transports must be a short list of strings.' })
  .nullish()
  .transform((value) => (value == null ? undefined : [...new Set(value)].filter((t) => TRANSPORTS.has(t))));

const attachment = z
  .string({ error: 'authenticatorAttachment must be a string.' })
  .max(32, { error: 'authenticatorAttachment must be a string.' })
  .nullish()
  .transform((value) =>
    value != null && ATTACHMENTS.has(value) ? (value as 'platform' | 'cross-platform') : undefined,
  );

/** Only the extension outputs Gatehouse reads (credProps.rk, appid), each with its type checked. */
const extensionResults = object('clientExtensionResults', {
  appid: boolean('clientExtensionResults.appid').optional(),
  credProps: object('clientExtensionResults.credProps', { rk: boolean('credProps.rk').optional() }).optional(),
})
  .nullish()
  .transform((value): AuthenticationExtensionsClientOutputs => {
    const out: AuthenticationExtensionsClientOutputs = {};
    if (value?.appid !== undefined) out.appid = value.appid;
    if (value?.credProps !== undefined)
      out.credProps = value.credProps.rk === undefined ? {} : { rk: value.credProps.rk };
    return out;
  });

/** The parts every public key credential shares: id === rawId, type public-key. */
function credential<T extends z.ZodRawShape>(inner: T) {
  return object('response', {
    id: nonEmptyBase64url('response.id', LIMITS.credentialId),
    rawId: nonEmptyBase64url('response.rawId', LIMITS.credentialId),
    type: z.literal('public-key', { error: 'response.type must be "public-key".' }),
    response: object('response.response', inner),
    authenticatorAttachment: attachment,
    clientExtensionResults: extensionResults,
  }).refine((value) => value.id === value.rawId, { error: 'response.id and response.rawId differ.' });
}

const registrationResponse = credential({
  clientDataJSON: nonEmptyBase64url('clientDataJSON', LIMITS.clientDataJSON),
  attestationObject: nonEmptyBase64url('attestationObject', LIMITS.attestationObject),
  transports,
}).transform(
  (value): RegistrationResponseJSON => ({
    id: value.id,
    rawId: value.rawId,
    type: 'public-key',
    response: {
      clientDataJSON: value.response.clientDataJSON,
      attestationObject: value.response.attestationObject,
      ...(value.response.transports
        ? { transports: value.response.transports as RegistrationResponseJSON['response']['transports'] }
        : {}),
    },
    ...(value.authenticatorAttachment ? { authenticatorAttachment: value.authenticatorAttachment } : {}),
    clientExtensionResults: value.clientExtensionResults,
  }),
);

const authenticationResponse = credential({
  clientDataJSON: nonEmptyBase64url('clientDataJSON', LIMITS.clientDataJSON),
  authenticatorData: nonEmptyBase64url('authenticatorData', LIMITS.authenticatorData),
  signature: nonEmptyBase64url('signature', LIMITS.signature),
  // An empty user handle means none.
  userHandle: base64url('userHandle', LIMITS.userHandle).nullish(),
}).transform(
  (value): AuthenticationResponseJSON => ({
    id: value.id,
    rawId: value.rawId,
    type: 'public-key',
    response: {
      clientDataJSON: value.response.clientDataJSON,
      authenticatorData: value.response.authenticatorData,
      signature: value.response.signature,
      ...(value.response.userHandle ? { userHandle: value.response.userHandle } : {}),
    },
    ...(value.authenticatorAttachment ? { authenticatorAttachment: value.authenticatorAttachment } : {}),
    clientExtensionResults: value.clientExtensionResults,
  }),
);

/** A key's name: trimmed, NFC, 1 to 64 characters, no control or direction-changing characters. */
const description = z
  .string({ error: DESCRIPTION_LENGTH_MESSAGE })
  .max(DESCRIPTION_MAX_LENGTH * 4, { error: DESCRIPTION_LENGTH_MESSAGE })
  .transform((value) => value.normalize('NFC').trim())
  .refine((value) => [...value].length >= 1 && [...value].length <= DESCRIPTION_MAX_LENGTH, {
    error: DESCRIPTION_LENGTH_MESSAGE,
  })
  .refine((value) => !FORBIDDEN_IN_DESCRIPTION.test(value), {
    error: 'The key name must not contain control characters.',
  });

const BODY = 'The request body';

/** `POST /api/webauthn/registration`: `{description, response}`. */
export const registrationBody = object(BODY, { description, response: registrationResponse });

/** `{response, targetURL?}` (SPEC §6); `requestMethod` and `keepMeLoggedIn` as `/api/firstfactor` takes them. */
export const signInBody = object(BODY, {
  response: authenticationResponse,
  targetURL: optionalText('targetURL', LIMITS.targetURL),
  requestMethod: optionalText('requestMethod', LIMITS.requestMethod),
  keepMeLoggedIn: optionalFlag('keepMeLoggedIn'),
});

/** `PUT /api/webauthn/credentials/:id`: `{description}`. */
export const renameBody = object(BODY, { description });

/** The schema's typed output, or a 400 PortalError naming the first problem (web/body.ts). */
const read = parseBody;

export function readRegistrationResponse(value: unknown): RegistrationResponseJSON {
  return read(registrationResponse, value);
}

export function readAuthenticationResponse(value: unknown): AuthenticationResponseJSON {
  return read(authenticationResponse, value);
}

export function readDescription(value: unknown): string {
  return read(description, value);
}

export type RegistrationBody = z.output<typeof registrationBody>;

export function readRegistrationBody(body: unknown): RegistrationBody {
  return read(registrationBody, body);
}

export type SignInBody = z.output<typeof signInBody>;

export function readSignInBody(body: unknown): SignInBody {
  return read(signInBody, body);
}

export function readRenameBody(body: unknown): string {
  return read(renameBody, body).description;
}

/** Storage IDs are positive integers; anything else names no key. */
export function readCredentialId(value: unknown): number | undefined {
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,14}$/.test(value)) return undefined;
  return Number(value);
}
