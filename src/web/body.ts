// JSON API bodies are read through a zod schema at the route: the handler gets typed values or the client gets one
// short 400 naming the first problem. Nothing in a body reaches a service, storage or a log unchecked.
import { z } from 'zod';
import { PortalError } from './errors.js';

export const NOT_AN_OBJECT = 'The request body must be a JSON object.';

/**
 * The typed body, or a 400 PortalError with the schema's message for the first problem found (every schema here
 * words its messages for the client, and none of them echoes the value).
 */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  throw new PortalError(400, firstMessage(result.error));
}

/** The schema's own message for the first problem (every schema here words its messages for the client). */
export function firstMessage(error: z.ZodError): string {
  return error.issues[0]?.message ?? 'Malformed request.';
}

/** A JSON object with these fields (unknown fields are dropped, not refused: clients add fields over time). */
export function bodyObject<T extends z.ZodRawShape>(shape: T) {
  return z.object(shape, { error: NOT_AN_OBJECT });
}

/** An optional string field: absent, null or '' read as undefined; a wrong type or an oversized value refused. */
export function optionalText(name: string, max: number) {
  return z
    .string({ error: `${name} must be a string.` })
    .max(max, { error: `${name} must be at most ${max} characters long.` })
    .nullish()
    .transform((value) => (value === null || value === '' ? undefined : value));
}

/** An optional boolean field: absent or null read as false. */
export function optionalFlag(name: string) {
  return z
    .boolean({ error: `${name} must be true or false.` })
    .nullish()
    .transform((value) => value === true);
}

/** A body the route ignores (logout, ceremony options): absent, or any JSON object. */
export const ignoredBody = z.union([z.undefined(), z.object({}, { error: NOT_AN_OBJECT })], { error: NOT_AN_OBJECT });
