// The recovery code rows of the JSON API (issue 11): `GET /api/recovery-codes` (how many are left),
// `POST /api/recovery-codes` (a new set, shown once) and `POST /api/recovery-codes/use` (a code as the second
// factor). The route table (http/routes.ts) mounts them with their guards, only while WebAuthn is on; bodies are
// read through zod schemas here, and a refusal is a thrown PortalError like everywhere else in the portal.
import type { Request, Response } from 'express';
import { z } from 'zod';
import { portalLocals, setSessionCookie } from '../web/context.js';
import { ok } from '../web/replies.js';
import { requestIp } from '../web/client-address.js';
import { bodyObject, ignoredBody, optionalText, parseBody } from '../web/body.js';
import { CeremonySteps, type PortalRequest, type WebAuthnServiceDependencies } from './ceremony.js';
import { RECOVERY_CODE_MAX_INPUT } from './recovery-codes.js';
import { RECOVERY_MESSAGES, RecoveryCodes } from './recovery.js';

const CODE_REQUIRED = 'Enter one of your recovery codes.';

/** A code as typed (normalised by the service), bounded; the target rides along as with a key. */
export const recoveryCodeBody = bodyObject({
  code: z
    .string({ error: CODE_REQUIRED })
    .min(1, { error: CODE_REQUIRED })
    .max(RECOVERY_CODE_MAX_INPUT, { error: RECOVERY_MESSAGES.malformed }),
  targetURL: optionalText('targetURL', 4096),
  requestMethod: optionalText('requestMethod', 32),
});

function portalRequest(req: Request, res: Response): PortalRequest {
  const { cookie, session } = portalLocals(res);
  return { cookie, session, ip: requestIp(req) };
}

/** The handlers of `/api/recovery-codes*`, over the WebAuthn dependencies (the same sign-in, storage, notifier). */
export function recoveryCodeHandlers(deps: WebAuthnServiceDependencies) {
  const recovery = new RecoveryCodes(new CeremonySteps(deps));

  async function summary(req: Request, res: Response): Promise<void> {
    const { remaining, total, createdAt } = await recovery.summary(portalRequest(req, res));
    ok(res, { remaining, total, created_at: createdAt?.toISOString() ?? null });
  }

  async function generate(req: Request, res: Response): Promise<void> {
    parseBody(ignoredBody, req.body);
    const { codes, createdAt, remaining } = await recovery.generate(portalRequest(req, res));
    // Shown once: the reply must not be kept by any cache (the portal's headers already say no-store).
    ok(res, { codes, remaining, created_at: createdAt.toISOString() }, 201);
  }

  async function use(req: Request, res: Response): Promise<void> {
    const body = parseBody(recoveryCodeBody, req.body);
    const portal = portalRequest(req, res);
    const signedIn = await recovery.use(portal, body);
    setSessionCookie(res, signedIn.session, portal.cookie);
    ok(res, {
      remaining: signedIn.remaining,
      ...(signedIn.redirect === undefined ? {} : { redirect: signedIn.redirect }),
    });
  }

  return { summary, generate, use };
}
