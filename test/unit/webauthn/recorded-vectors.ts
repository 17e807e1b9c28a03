// The recorded WebAuthn vectors (../shared/webauthn-vectors, README there): their shape, and a loader. In CI the
// repository is cloned next to a `shared/` copy with the same layout.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../../../src/paths.js';
import type { Expected } from '../../../src/webauthn/verify.js';

export const VECTORS_DIR = join(packageRoot, '..', 'shared', 'webauthn-vectors');

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

