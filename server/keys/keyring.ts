/**
 * The signing keys one instance knows: loaded from the database at start-up
 * and again every `refreshSeconds`, so an instance learns of a rotation made
 * elsewhere (`npm run keys -- rotate`, another instance's first start)
 * without a restart.
 *
 * Publish before use: a rotated key becomes the signer only at its
 * `activatesAt`, two refresh intervals after it was made, so every instance
 * (and every resource server re-reading the JWKS) already holds it when the
 * first token names it. The previous key keeps verifying, and stays in the
 * JWKS, until its `retiresAt`: the last token it signed has expired by then.
 */
import type { KeyObject } from "node:crypto";
import type { PrismaClient } from "../db/database.ts";
import type { Logger } from "../log.ts";
import type { Sealer } from "../secrets/sealer.ts";
import { privateKeyContext, privateKeyOf, publicKeyOf, type AsymmetricAlg, type PublicJwk } from "./signing-keys.ts";

/** How often an instance re-reads the keys, and how long a rotated key waits before it signs. */
export function keyTimings(accessTokenTtl: number): { refreshSeconds: number; activationDelaySeconds: number } {
  // At most half an access-token lifetime, so a rotation reaches every
  // instance within one lifetime; at most 30 s, so it reaches them soon.
  const refreshSeconds = Math.max(1, Math.min(30, Math.floor(accessTokenTtl / 2)));
  return { refreshSeconds, activationDelaySeconds: 2 * refreshSeconds };
}

/** A key that verifies tokens, and signs them when this instance can open its private half. */
export interface LoadedKey {
  kid: string;
  alg: AsymmetricAlg;
  publicKey: KeyObject;
  privateKey: KeyObject | null;
  publicJwk: PublicJwk;
  activatesAt: Date;
  retiresAt: Date | null;
}

export interface KeyringDeps {
  prisma: PrismaClient;
  sealer: Sealer;
  now: () => Date;
  log: Logger;
}

function isPublished(key: LoadedKey, now: Date): boolean {
  return key.retiresAt === null || key.retiresAt > now;
}

/** The published keys of this instance, refreshed from the database. */
export class Keyring {
  #keys = new Map<string, LoadedKey>();
  #timer: NodeJS.Timeout | undefined;
  #loading: Promise<void> | undefined;

  constructor(
    private readonly deps: KeyringDeps,
    /** The algorithm this instance signs with (JWT_ALG), or null for HS256. */
    readonly signingAlg: AsymmetricAlg | null,
  ) {}

  /** Re-reads the published keys; concurrent calls share one read. */
  load(): Promise<void> {
    this.#loading ??= this.#read().finally(() => (this.#loading = undefined));
    return this.#loading;
  }

  async #read(): Promise<void> {
    const now = this.deps.now();
    const rows = await this.deps.prisma.signingKey.findMany({ where: { OR: [{ retiresAt: null }, { retiresAt: { gt: now } }] } });
    const next = new Map<string, LoadedKey>();
    for (const row of rows) {
      const known = this.#keys.get(row.kid);
      if (known) {
        next.set(row.kid, { ...known, activatesAt: row.activatesAt, retiresAt: row.retiresAt });
        continue;
      }
      const alg = row.alg as AsymmetricAlg;
      const publicJwk = row.publicJwk as unknown as PublicJwk;
      let privateKey: KeyObject | null = null;
      if (alg === this.signingAlg) {
        try {
          privateKey = privateKeyOf(this.deps.sealer.open(row.privateKey, privateKeyContext(row.kid)));
        } catch (error) {
          // This instance verifies with the key but cannot sign with it (another ENCRYPTION_KEY?).
          this.deps.log.error({ kid: row.kid, err: error instanceof Error ? error.message : String(error) }, "signing key cannot be opened");
        }
      }
      next.set(row.kid, { kid: row.kid, alg, publicKey: publicKeyOf(publicJwk), privateKey, publicJwk, activatesAt: row.activatesAt, retiresAt: row.retiresAt });
    }
    this.#keys = next;
  }

  /** Keeps the keys fresh every `refreshSeconds` until `stop()`. */
  start(refreshMs: number): void {
    this.#timer = setInterval(() => {
      this.load().catch((error: unknown) => this.deps.log.warn({ err: error }, "signing keys could not be refreshed"));
    }, refreshMs);
    this.#timer.unref();
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  /** The key new tokens are signed with: the newest active one of JWT_ALG. */
  signer(now: Date): LoadedKey | undefined {
    let best: LoadedKey | undefined;
    for (const key of this.#keys.values()) {
      if (key.privateKey === null || key.alg !== this.signingAlg || key.activatesAt > now || !isPublished(key, now)) continue;
      if (!best || key.activatesAt > best.activatesAt) best = key;
    }
    return best;
  }

  /** The published key a token's `kid` names, if any. */
  verifier(kid: string, now: Date): LoadedKey | undefined {
    const key = this.#keys.get(kid);
    return key && isPublished(key, now) ? key : undefined;
  }

  /** The public keys to publish at `/.well-known/jwks.json`, including those about to sign. */
  jwks(now: Date): { keys: PublicJwk[] } {
    return { keys: [...this.#keys.values()].filter((key) => isPublished(key, now)).map((key) => key.publicJwk) };
  }
}
