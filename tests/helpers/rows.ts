/** Row counts of every application table, to show that an attack changed nothing. */
import { expect } from "vitest";
import type { Database } from "../../server/db/database.ts";

export interface RowCounts {
  users: number;
  sessions: number;
  liveSessions: number;
  refreshTokens: number;
  usedRefreshTokens: number;
  oneTimeTokens: number;
  authEvents: number;
  totpFactors: number;
  usedTotpSteps: number;
  recoveryCodes: number;
  usedRecoveryCodes: number;
  mfaChallenges: number;
  mfaAttempts: number;
  passkeys: number;
  webauthnChallenges: number;
  usedWebauthnChallenges: number;
  oauthIdentities: number;
  oauthFlows: number;
  usedOauthFlows: number;
  oauthCodes: number;
  usedOauthCodes: number;
}

/** Counts rows (and live sessions / used tokens and codes, which change without new rows). */
export async function rowCounts(db: Database): Promise<RowCounts> {
  const p = db.prisma;
  const [users, sessions, liveSessions, refreshTokens, usedRefreshTokens, oneTimeTokens, authEvents] = await Promise.all([
    p.user.count(),
    p.session.count(),
    p.session.count({ where: { revokedAt: null } }),
    p.refreshToken.count(),
    p.refreshToken.count({ where: { usedAt: { not: null } } }),
    p.oneTimeToken.count(),
    p.authEvent.count(),
  ]);
  const [totpFactors, usedTotpSteps, recoveryCodes, usedRecoveryCodes, mfaChallenges, attempts, passkeys, webauthnChallenges, usedWebauthnChallenges] =
    await Promise.all([
      p.totpFactor.count(),
      p.totpFactor.count({ where: { lastUsedStep: { not: null } } }),
      p.recoveryCode.count(),
      p.recoveryCode.count({ where: { usedAt: { not: null } } }),
      p.mfaChallenge.count(),
      p.mfaChallenge.aggregate({ _sum: { attempts: true } }),
      p.passkey.count(),
      p.webauthnChallenge.count(),
      p.webauthnChallenge.count({ where: { usedAt: { not: null } } }),
    ]);
  const [oauthIdentities, oauthFlows, usedOauthFlows, oauthCodes, usedOauthCodes] = await Promise.all([
    p.oAuthIdentity.count(),
    p.oAuthFlow.count(),
    p.oAuthFlow.count({ where: { usedAt: { not: null } } }),
    p.oAuthCode.count(),
    p.oAuthCode.count({ where: { usedAt: { not: null } } }),
  ]);
  return {
    oauthIdentities,
    oauthFlows,
    usedOauthFlows,
    oauthCodes,
    usedOauthCodes,
    users,
    sessions,
    liveSessions,
    refreshTokens,
    usedRefreshTokens,
    oneTimeTokens,
    authEvents,
    totpFactors,
    usedTotpSteps,
    recoveryCodes,
    usedRecoveryCodes,
    mfaChallenges,
    mfaAttempts: attempts._sum.attempts ?? 0,
    passkeys,
    webauthnChallenges,
    usedWebauthnChallenges,
  };
}

/** Runs an action and asserts that it changed no row count; returns its result. */
export async function expectNoChange<T>(db: Database, action: () => Promise<T>): Promise<T> {
  const before = await rowCounts(db);
  const result = await action();
  expect(await rowCounts(db)).toEqual(before);
  return result;
}
