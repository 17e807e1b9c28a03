// The WebAuthn rows of the JSON API (SPEC §6). The route table (http/routes.ts) mounts these handlers with their
// guards (signed-in level, elevation) and only when WebAuthn (and, for the passkey rows, passkey sign-in) is on.
// Handlers only read the body through its zod schema (input.ts; the options rows take no body but refuse one that
// is not a JSON object), call the service and answer; a refusal is thrown (a PortalError) and rendered by the
// portal app's error handler, like anything else that goes wrong (503 when Redis or storage is down, else a 500).
import type { Request, Response } from 'express';
import { portalLocals, setSessionCookie } from '../web/context.js';
import { ok } from '../web/replies.js';
import { requestIp } from '../web/client-address.js';
import { ignoredBody, parseBody } from '../web/body.js';
import { readCredentialId, registrationBody, renameBody, signInBody } from './input.js';
import { WebAuthnService, type PortalRequest, type SignedIn, type WebAuthnServiceDependencies } from './service.js';

export type WebAuthnRouteDependencies = WebAuthnServiceDependencies;

/** The request as the service sees it. */
function portalRequest(req: Request, res: Response): PortalRequest {
  const { cookie, session } = portalLocals(res);
  return { cookie, session, ip: requestIp(req), userAgent: req.headers['user-agent'] };
}

function answerSignIn(res: Response, portal: PortalRequest, signedIn: SignedIn): void {
  setSessionCookie(res, signedIn.session, portal.cookie);
  ok(res, signedIn.redirect === undefined ? {} : { redirect: signedIn.redirect });
}

/** The handlers of `/api/webauthn/*`, over one service. */
export function webauthnHandlers(deps: WebAuthnRouteDependencies) {
  const service = new WebAuthnService(deps);

  async function registrationOptions(req: Request, res: Response): Promise<void> {
    parseBody(ignoredBody, req.body);
    ok(res, await service.registrationOptions(portalRequest(req, res)));
  }

  async function register(req: Request, res: Response): Promise<void> {
    const body = parseBody(registrationBody, req.body);
    ok(res, await service.register(portalRequest(req, res), body), 201);
  }

  async function authenticationOptions(req: Request, res: Response): Promise<void> {
    parseBody(ignoredBody, req.body);
    ok(res, await service.authenticationOptions(portalRequest(req, res)));
  }

  async function authenticate(req: Request, res: Response): Promise<void> {
    const body = parseBody(signInBody, req.body);
    const portal = portalRequest(req, res);
    answerSignIn(res, portal, await service.authenticate(portal, body));
  }

  async function passkeyOptions(req: Request, res: Response): Promise<void> {
    parseBody(ignoredBody, req.body);
    const portal = portalRequest(req, res);
    const { options, session, created } = await service.passkeyOptions(portal);
    if (created) setSessionCookie(res, session, portal.cookie);
    ok(res, options);
  }

  async function passkeySignIn(req: Request, res: Response): Promise<void> {
    const body = parseBody(signInBody, req.body);
    const portal = portalRequest(req, res);
    answerSignIn(res, portal, await service.passkeySignIn(portal, body));
  }

  async function list(req: Request, res: Response): Promise<void> {
    ok(res, await service.list(portalRequest(req, res)));
  }

  async function rename(req: Request, res: Response): Promise<void> {
    const { description } = parseBody(renameBody, req.body);
    ok(res, await service.rename(portalRequest(req, res), readCredentialId(req.params.id), description));
  }

  async function remove(req: Request, res: Response): Promise<void> {
    await service.remove(portalRequest(req, res), readCredentialId(req.params.id));
    ok(res);
  }

  return {
    registrationOptions,
    register,
    authenticationOptions,
    authenticate,
    passkeyOptions,
    passkeySignIn,
    list,
    rename,
    remove,
  };
}
