// The recorded WebAuthn vectors (test/fixtures/webauthn-vectors, whose README says where each was recorded and under
// which licence): their shape, and a loader. The repository carries its own copy, so a clone stands alone.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';
import type { Expected } from '../../../src/webauthn/verify.js';

export const VECTORS_DIR = join(packageRoot, 'test', 'fixtures', 'webauthn-vectors');

export interface Vector {
  id: string;
  kind: 'registration' | 'authentication';
  expected: Expected;
  storedCredential?: { id: string; publicKey: string; counter: number };
  response: unknown;
  expectedOutcome: {
    verified: boolean;
    clock: { dependsOnClock: boolean; verifyAt: string | null; x5cValidFrom?: string; x5cValidTo?: string };
    result?: Record<string, unknown>;
  };
  mutations?: { name: string; expected: Partial<Expected>; verified: boolean }[];
  observed?: { atRealClock?: { verified: boolean } };
}

export function loadVectors(): Vector[] {
  return readdirSync(VECTORS_DIR)
    .filter((name) => name.endsWith('.json') && name !== 'index.json')
    .sort()
    .map((name) => JSON.parse(readFileSync(join(VECTORS_DIR, name), 'utf8')) as Vector);
}
