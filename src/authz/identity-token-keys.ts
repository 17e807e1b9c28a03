// The keys that sign identity tokens, shared by every replica through storage and held in memory: the authz path
// signs with the in-memory key and never queries storage. A background refresh (at start, then every minute or so)
// creates the first key, stores each successor ahead of its use (so it is published before it signs), prunes keys
// whose last token has expired, and reloads the set. With no usable key in memory, issuing fails closed.
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { type CryptoKey, exportJWK, generateKeyPair, importJWK, type JWK } from 'jose';
import type { Logger } from 'pino';
import type { IdentityTokenKeyRecord, Storage } from '../storage/storage.js';
import { StorageUnavailableError } from '../observability/backend-errors.js';

export type IdentityTokenAlgorithm = 'ES256' | 'EdDSA';

/** Verifiers' clocks may run this far behind or ahead: a public key stays published this much longer. */
export const CLOCK_SKEW_SECONDS = 60;
/** How long a key's row is kept after its signing period ends, well past its last token (then it is deleted). */
const KEEP_ROWS_SECONDS = 24 * 3600;
/** How long a start waits for the first load before serving anyway (token answers are 503 until it lands). */
const START_WAIT_MS = 5_000;
/** How soon a failed refresh is tried again. */
const RETRY_MS = 5_000;

export interface SigningKey {
  kid: string;
  alg: IdentityTokenAlgorithm;
  key: CryptoKey | Uint8Array;
}

/** The JWKS document: the public keys, with `kid`, `alg` and `use: sig`. */
export interface Jwks {
  keys: JWK[];
}

export interface IdentityTokenKeysOptions {
  algorithm: IdentityTokenAlgorithm;
  /** Seconds each key signs for. */
  rotationSeconds: number;
  /** Seconds a token lives: a public key stays published this long (and the clock skew) after it stops signing. */
  tokenLifetimeSeconds: number;
  /** The secret the private keys are sealed with (any length; a 256-bit key is derived from it). */
  secret: string;
  logger: Logger;
  /** Epoch ms (tests move it). */
  now?: () => number;
}

interface LoadedKey {
  record: IdentityTokenKeyRecord;
  jwk: JWK;
  /** Undefined when the sealed private key does not open with this replica's secret (published, never used). */
  signing?: SigningKey;
}

type Storing = Pick<Storage, 'ensureIdentityTokenKeys'>;

export class IdentityTokenKeys {
  readonly #storage: Storing;
  readonly #options: IdentityTokenKeysOptions;
  readonly #sealKey: Buffer;
  readonly #now: () => number;
  #keys: LoadedKey[] = [];
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #running: Promise<void> | undefined;
  /** The last refresh failed: told once, then again when it works (no log flood while storage is down). */
  #failing = false;
  readonly #unopenable = new Set<string>();

  constructor(storage: Storing, options: IdentityTokenKeysOptions) {
    this.#storage = storage;
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#sealKey = Buffer.from(
      hkdfSync('sha256', options.secret, Buffer.alloc(0), 'gatehouse identity token signing keys', 32),
    );
  }

  /** How long ahead of its use a successor is stored (and so published): a quarter of a period, at most an hour. */
  get leadSeconds(): number {
    return Math.min(3600, this.#options.rotationSeconds / 4);
  }

  /** How often each replica refreshes: often enough to see a successor long before it signs. */
  get refreshMs(): number {
    return Math.min(60_000, (this.leadSeconds * 1000) / 4);
  }

  /**
   * The first refresh (awaited, at most `waitMs`: a replica that can reach storage signs from its first request),
   * then the periodic ones in the background, every few seconds while they fail. A first refresh that fails or is
   * still waiting does not stop the start: token answers are 503 until a refresh works.
   */
  async start(waitMs = START_WAIT_MS): Promise<void> {
    this.#stopped = false;
    const first = this.refreshQuietly();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([first, new Promise((resolve) => (timer = setTimeout(resolve, waitMs)))]);
    clearTimeout(timer);
    // The next round counts from the end of this one, so a slow storage never piles rounds up.
    void first.then(() => this.#schedule());
  }

  #schedule(): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(
      () => void this.refreshQuietly().then(() => this.#schedule()),
      this.#failing ? RETRY_MS : this.refreshMs,
    );
    this.#timer.unref();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => undefined);
  }

  /** A refresh whose failure is logged (once per outage), never thrown. */
  async refreshQuietly(): Promise<void> {
    try {
      await this.refresh();
      if (this.#failing) this.#options.logger.info('identity token keys loaded again');
      this.#failing = false;
    } catch (error) {
      if (!this.#failing) {
        this.#options.logger.error(
          { err: error },
          'identity token keys could not be refreshed from storage (tokens are signed with the keys in memory while they last)',
        );
      }
      this.#failing = true;
    }
  }

  /** One round: prune, create the key now needed (if any), reload. Rejects when storage cannot answer. */
  refresh(): Promise<void> {
    // One round at a time per replica.
    const round = (this.#running ?? Promise.resolve()).catch(() => undefined).then(() => this.#refreshOnce());
    this.#running = round;
    return round;
  }

  async #refreshOnce(): Promise<void> {
    const now = this.#now();
    const records = await this.#storage.ensureIdentityTokenKeys(new Date(now - KEEP_ROWS_SECONDS * 1000), (keys) =>
      this.#plan(keys, now),
    );
    const loaded: LoadedKey[] = [];
    for (const record of records) {
      const previous = this.#keys.find((key) => key.record.kid === record.kid);
      loaded.push(previous ?? (await this.#load(record)));
    }
    this.#keys = loaded;
  }

  /** The key the replicas need stored now, if any: a first key, or the successor of the last one, ahead of its use. */
  async #plan(keys: readonly IdentityTokenKeyRecord[], now: number): Promise<IdentityTokenKeyRecord | undefined> {
    const usable = keys.filter((key) => key.algorithm === this.#options.algorithm && this.#opens(key));
    const last = usable.reduce<IdentityTokenKeyRecord | undefined>(
      (latest, key) => (latest === undefined || key.notAfter > latest.notAfter ? key : latest),
      undefined,
    );
    const lastEnd = last?.notAfter.getTime() ?? 0;
    // Enough cover: a key signs beyond the lead time (and a refresh round or two).
    if (lastEnd > now + this.leadSeconds * 1000) return undefined;
    // The successor takes over when the last key stops; with none usable (first start, a long outage, a new
    // algorithm or secret) it signs at once.
    const activeFrom = Math.max(lastEnd, now);
    return this.#generate(now, activeFrom);
  }

  async #generate(now: number, activeFrom: number): Promise<IdentityTokenKeyRecord> {
    const alg = this.#options.algorithm;
    const pair = await generateKeyPair(
      alg,
      alg === 'EdDSA' ? { crv: 'Ed25519', extractable: true } : { extractable: true },
    );
    const kid = randomUUID();
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' };
    const privateJwk = await exportJWK(pair.privateKey);
    const record: IdentityTokenKeyRecord = {
      kid,
      algorithm: alg,
      publicJwk: JSON.stringify(publicJwk),
      privateKey: this.#seal(kid, JSON.stringify(privateJwk)),
      createdAt: new Date(now),
      activeFrom: new Date(activeFrom),
      notAfter: new Date(activeFrom + this.#options.rotationSeconds * 1000),
    };
    this.#options.logger.info(
      { kid, algorithm: alg, activeFrom: record.activeFrom.toISOString(), notAfter: record.notAfter.toISOString() },
      'identity token signing key created',
    );
    return record;
  }

  async #load(record: IdentityTokenKeyRecord): Promise<LoadedKey> {
    const jwk = JSON.parse(record.publicJwk) as JWK;
    const alg = record.algorithm as IdentityTokenAlgorithm;
    const opened = this.#open(record);
    if (opened === undefined) return { record, jwk };
    return { record, jwk, signing: { kid: record.kid, alg, key: await importJWK(JSON.parse(opened) as JWK, alg) } };
  }

  /** The keys whose tokens may still be alive (or that will sign soon), oldest first. */
  #published(now: number): LoadedKey[] {
    const kept = (this.#options.tokenLifetimeSeconds + CLOCK_SKEW_SECONDS) * 1000;
    return this.#keys.filter((key) => key.record.notAfter.getTime() + kept > now);
  }

  /** The public keys to publish now (filtered per call: while storage is down, expired keys still drop out). */
  jwks(now: number = this.#now()): Jwks {
    return { keys: this.#published(now).map((key) => key.jwk) };
  }

  /**
   * The key to sign with at `now` (epoch ms): the newest usable key whose signing period holds `now`. Throws a
   * StorageUnavailableError when there is none (never loaded, or storage unreachable for longer than a period):
   * the authz handler answers 503, never a pass without the token.
   */
  signingKey(now: number = this.#now()): SigningKey {
    let best: LoadedKey | undefined;
    for (const key of this.#keys) {
      if (key.signing === undefined || key.record.algorithm !== this.#options.algorithm) continue;
      if (key.record.activeFrom.getTime() > now || key.record.notAfter.getTime() <= now) continue;
      if (best === undefined || key.record.activeFrom > best.record.activeFrom) best = key;
    }
    if (best?.signing === undefined)
      throw new StorageUnavailableError(undefined, 'no identity token signing key is loaded');
    return best.signing;
  }

  #opens(record: IdentityTokenKeyRecord): boolean {
    return this.#open(record) !== undefined;
  }

  /** AES-256-GCM: 12-byte IV, 16-byte tag, then the ciphertext; the kid is the associated data. */
  #seal(kid: string, plain: string): Uint8Array {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#sealKey, iv);
    cipher.setAAD(Buffer.from(kid, 'utf8'));
    const body = Buffer.concat([cipher.update(plain, 'utf8'), cipher.final()]);
    return new Uint8Array(Buffer.concat([iv, cipher.getAuthTag(), body]));
  }

  #open(record: IdentityTokenKeyRecord): string | undefined {
    try {
      const sealed = Buffer.from(record.privateKey);
      const decipher = createDecipheriv('aes-256-gcm', this.#sealKey, sealed.subarray(0, 12));
      decipher.setAAD(Buffer.from(record.kid, 'utf8'));
      decipher.setAuthTag(sealed.subarray(12, 28));
      return Buffer.concat([decipher.update(sealed.subarray(28)), decipher.final()]).toString('utf8');
    } catch {
      if (!this.#unopenable.has(record.kid)) {
        this.#unopenable.add(record.kid);
        this.#options.logger.warn(
          { kid: record.kid },
          'an identity token key does not open with this replica’s secret: it is published but never used here',
        );
      }
      return undefined;
    }
  }
}
