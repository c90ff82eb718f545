/**
 * Making signing keys: at first start (`ensureSigningKey`) and on
 * `npm run keys -- rotate` (`rotateSigningKey`). Each new key retires every
 * key before it, once the last token those may still sign has expired.
 */
import type { PrismaClient } from "../db/database.ts";
import type { Sealer } from "../secrets/sealer.ts";
import type { Keyring } from "./keyring.ts";
import { generateSigningKey, privateKeyContext, type AsymmetricAlg } from "./signing-keys.ts";

/**
 * Margin added to the retirement time, in seconds: the clock skew tolerated
 * between instances (5 s, as in access-token.ts) plus the longest refresh
 * interval (30 s, keyring.ts), for an instance that made a key at first start
 * and signs with it until it reads a newer one.
 */
const RETIRE_MARGIN_SECONDS = 35;

export interface RotationDeps {
  prisma: PrismaClient;
  sealer: Sealer;
  now: () => Date;
}

export interface NewKeyPlan {
  alg: AsymmetricAlg;
  /** Seconds from now until the key signs (0 at first start). */
  activationDelaySeconds: number;
  /** ACCESS_TOKEN_TTL in seconds: how long the keys before it must still verify. */
  accessTokenTtl: number;
}

/** Adds a signing key; the keys before it retire one access-token lifetime after it activates. Returns its kid. */
export async function addSigningKey(deps: RotationDeps, plan: NewKeyPlan): Promise<{ kid: string; activatesAt: Date; previousRetireAt: Date }> {
  const key = generateSigningKey(plan.alg);
  const now = deps.now();
  const activatesAt = new Date(now.getTime() + plan.activationDelaySeconds * 1000);
  const previousRetireAt = new Date(activatesAt.getTime() + (plan.accessTokenTtl + RETIRE_MARGIN_SECONDS) * 1000);
  await deps.prisma.$transaction([
    deps.prisma.signingKey.deleteMany({ where: { retiresAt: { lte: now } } }),
    deps.prisma.signingKey.updateMany({ where: { retiresAt: null }, data: { retiresAt: previousRetireAt } }),
    deps.prisma.signingKey.create({
      data: {
        kid: key.kid,
        alg: key.alg,
        publicJwk: { ...key.publicJwk },
        privateKey: deps.sealer.seal(key.privatePem, privateKeyContext(key.kid)),
        createdAt: now,
        activatesAt,
      },
    }),
  ]);
  return { kid: key.kid, activatesAt, previousRetireAt };
}

/**
 * At start-up with an asymmetric JWT_ALG: makes a key that signs at once when
 * none of that algorithm can sign (first start, or JWT_ALG just changed).
 * Two instances starting together may both make one; both are published and
 * verify, and the newest signs.
 */
export async function ensureSigningKey(deps: RotationDeps & { keyring: Keyring }, accessTokenTtl: number): Promise<void> {
  // Loaded whatever JWT_ALG is: an HS256 instance still verifies tokens signed
  // by published keys (switching back from ES256/RS256, docs/tokens.md).
  await deps.keyring.load();
  const alg = deps.keyring.signingAlg;
  if (alg === null || deps.keyring.signer(deps.now())) return;
  await addSigningKey(deps, { alg, activationDelaySeconds: 0, accessTokenTtl });
  await deps.keyring.load();
}
