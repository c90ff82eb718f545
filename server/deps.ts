/** What the auth domain functions need, passed in plainly so they run without tRPC. */
import type { PrismaClient } from "./db/database.ts";
import type { AccessTokens } from "./sessions/access-token.ts";
import type { PasswordHasher } from "./passwords/hasher.ts";

export interface AuthDeps {
  prisma: PrismaClient;
  passwords: PasswordHasher;
  accessTokens: AccessTokens;
  /** Lifetime of a session and of each refresh token, in seconds (sliding: each refresh restarts it). */
  refreshTokenTtl: number;
  /** SESSION_MAX_AGE in seconds: no refresh extends a session past its creation plus this. */
  sessionMaxAge: number;
  /** The clock; tests inject their own. */
  now: () => Date;
}

/** Where a request came from, recorded on sessions and events. */
export interface RequestMeta {
  ip: string | null;
  userAgent: string | null;
}
