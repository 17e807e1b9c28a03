// The WebAuthn rows of the JSON API (SPEC §6). Handlers only read the body (input.ts's zod schemas; the options rows
// take no body but refuse one that is not a JSON object), call the service and answer;
// expected refusals (Refusal, BadInput) become short KO replies here, anything else goes to the app's error handler
// (503 when Redis or storage is down, else a plain 500).
import { Router, type NextFunction, type Request, type Response } from 'express';
import { portalLocals, setSessionCookie } from '../portal/context.js';
import { ko, ok, requestIp } from '../portal/http-helpers.js';
import { BadInput, readCredentialId, readRegistrationBody, readRenameBody, readSignInBody } from './input.js';
import { ignoredBody, parseBody } from '../portal/body.js';
import {
  Refusal,
  WebAuthnService,
  type PortalRequest,
  type SignedIn,
  type WebAuthnServiceDependencies,
} from './service.js';

export type WebAuthnRouteDependencies = WebAuthnServiceDependencies;

type Handler = (req: Request, res: Response, portal: PortalRequest) => Promise<void>;

/** Runs a handler with the portal context, turning expected refusals into KO replies. */
function handle(handler: Handler) {
  return async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    const { cookie, session } = portalLocals(res);
    try {
      await handler(req, res, { cookie, session, ip: requestIp(req) });
    } catch (error) {
      if (error instanceof Refusal) return ko(res, error.status, error.message);
      if (error instanceof BadInput) return ko(res, error.status, error.message);
      next(error);
    }
  };
}

function answerSignIn(res: Response, portal: PortalRequest, signedIn: SignedIn): void {
  setSessionCookie(res, signedIn.session, portal.cookie);
  ok(res, signedIn.redirect === undefined ? {} : { redirect: signedIn.redirect });
}

export function webauthnRoutes(deps: WebAuthnRouteDependencies): Router {
  const router = Router();
  if (deps.webauthn.disable) {
    router.all('/api/webauthn/{*rest}', (_req: Request, res: Response) => ko(res, 404, 'Not found.'));
    return router;
  }
  const service = new WebAuthnService(deps);

  router.post(
    '/api/webauthn/registration/options',
    handle(async (req, res, portal) => {
      parseBody(ignoredBody, req.body);
      ok(res, await service.registrationOptions(portal));
    }),
  );

  router.post(
    '/api/webauthn/registration',
    handle(async (req, res, portal) => {
      const body = readRegistrationBody(req.body);
      ok(res, await service.register(portal, body), 201);
    }),
  );

  router.post(
    '/api/webauthn/authentication/options',
    handle(async (req, res, portal) => {
      parseBody(ignoredBody, req.body);
      ok(res, await service.authenticationOptions(portal));
    }),
  );

  router.post(
    '/api/webauthn/authentication',
    handle(async (req, res, portal) => {
      const body = readSignInBody(req.body);
      answerSignIn(res, portal, await service.authenticate(portal, body));
    }),
  );

  // Without `enable_passkey_login` the passkey rows do not exist, whatever the body.
  const passkeys = deps.webauthn.enable_passkey_login;

  router.post(
    '/api/webauthn/passkey/options',
    handle(async (req, res, portal) => {
      if (!passkeys) return ko(res, 404, 'Not found.');
      parseBody(ignoredBody, req.body);
      const { options, session, created } = await service.passkeyOptions(portal);
      if (created) setSessionCookie(res, session, portal.cookie);
      ok(res, options);
    }),
  );

  router.post(
    '/api/webauthn/passkey',
    handle(async (req, res, portal) => {
      if (!passkeys) return ko(res, 404, 'Not found.');
      const body = readSignInBody(req.body);
      answerSignIn(res, portal, await service.passkeySignIn(portal, body));
    }),
  );

  router.get(
    '/api/webauthn/credentials',
    handle(async (_req, res, portal) => {
      ok(res, await service.list(portal));
    }),
  );

  router.put(
    '/api/webauthn/credentials/:id',
    handle(async (req, res, portal) => {
      const description = readRenameBody(req.body);
      ok(res, await service.rename(portal, readCredentialId(req.params.id), description));
    }),
  );

  router.delete(
    '/api/webauthn/credentials/:id',
    handle(async (req, res, portal) => {
      await service.remove(portal, readCredentialId(req.params.id));
      ok(res);
    }),
  );

  return router;
}
