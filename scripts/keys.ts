/**
 * `npm run keys -- rotate`: makes a new signing key for JWT_ALG (ES256 or
 * RS256) in the configured database. It is published at once, signs after
 * every instance has read it, and the previous key retires once the last
 * token it signed has expired (docs/tokens.md). `npm run keys -- list` shows
 * the keys and their times.
 */
import { openDatabase } from "../server/db/database.ts";
import { EnvError, loadEnv } from "../server/env.ts";
import { keyTimings } from "../server/keys/keyring.ts";
import { addSigningKey } from "../server/keys/rotation.ts";
import { createLogger } from "../server/log.ts";
import { resolveSealer } from "../server/secrets/sealer.ts";

const USAGE = "usage: npm run keys -- rotate | list";

async function run(command: string | undefined): Promise<void> {
  if (command !== "rotate" && command !== "list") throw new Error(USAGE);
  const config = loadEnv();
  const log = createLogger(config);
  const db = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log, poolSize: 1 });
  try {
    if (command === "list") {
      const keys = await db.prisma.signingKey.findMany({ orderBy: { activatesAt: "asc" }, select: { kid: true, alg: true, activatesAt: true, retiresAt: true } });
      for (const key of keys) {
        console.log(`${key.kid}  ${key.alg}  signs from ${key.activatesAt.toISOString()}  ${key.retiresAt ? `retires ${key.retiresAt.toISOString()}` : "current"}`);
      }
      if (keys.length === 0) console.log("no signing keys (JWT_ALG=HS256 uses JWT_SECRET)");
      return;
    }
    if (config.jwtAlg === "HS256") {
      throw new Error("JWT_ALG is HS256: tokens are signed with JWT_SECRET, there is no key to rotate. Set JWT_ALG=ES256 or RS256 (docs/tokens.md)");
    }
    // With no key published yet nothing has to learn of the new one first: it signs at once.
    const published = await db.prisma.signingKey.count({ where: { OR: [{ retiresAt: null }, { retiresAt: { gt: new Date() } }] } });
    const activationDelaySeconds = published === 0 ? 0 : keyTimings(config.accessTokenTtl).activationDelaySeconds;
    const rotated = await addSigningKey(
      { prisma: db.prisma, sealer: resolveSealer(config, log), now: () => new Date() },
      { alg: config.jwtAlg, activationDelaySeconds, accessTokenTtl: config.accessTokenTtl },
    );
    console.log(`new ${config.jwtAlg} key ${rotated.kid}: published now, signs from ${rotated.activatesAt.toISOString()}`);
    console.log(`previous keys verify until ${rotated.previousRetireAt.toISOString()}, then leave the JWKS`);
  } finally {
    await db.close();
  }
}

try {
  await run(process.argv[2]);
} catch (error) {
  console.error(error instanceof EnvError ? error.message : `keys: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
