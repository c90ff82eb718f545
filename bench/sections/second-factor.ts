import { load } from "../lib/load.ts";
import { progress, meOf, median, fmt, DURATION, WARMUP, CONNECTIONS, BCRYPT_COST, type BenchContext } from "../lib/context.ts";
import { enrolledAccount, meInterleaved, signInTimes } from "../lib/mfa.ts";

/** Second factor: auth.me with TOTP on vs off; the challenge step's cost. */
export async function secondFactor(ctx: BenchContext): Promise<void> {
  const { rows, results, gh, email, accessToken } = ctx;
  progress("auth.me for a user with TOTP on vs off, interleaved 3 times; sign-ins with and without the challenge step");
  const mfaUsers = [await enrolledAccount(gh.url, "mfa-a"), await enrolledAccount(gh.url, "mfa-b")];
  await load({ ...meOf(gh, mfaUsers[0]!.accessToken), duration: WARMUP });
  const meMfa = await meInterleaved(`${gh.url}/trpc/auth.me`, { off: accessToken, on: mfaUsers[0]!.accessToken }, {
    connections: CONNECTIONS,
    duration: DURATION / 3,
    runs: 3,
  });
  const meOffRps = median(meMfa.off.map((r) => r.rps));
  const meOnRps = median(meMfa.on.map((r) => r.rps));
  const meMfaFailed = [...meMfa.off, ...meMfa.on].reduce((n, r) => n + r.non2xx + r.errors, 0);
  rows.push({
    figure: "auth.me over /trpc, PostgreSQL, user with TOTP on",
    value: `${fmt(meOnRps)} req/s (TOTP off: ${fmt(meOffRps)}; runs on ${meMfa.on.map((r) => fmt(r.rps)).join(", ")})${meMfaFailed ? `, ${meMfaFailed} failed` : ""}`,
    ratio: meOnRps / meOffRps,
    of: "auth.me, TOTP off, same run",
    target: "≈ 1 (≥ 0.95)",
    met: meOnRps / meOffRps >= 0.95 && meMfaFailed === 0,
  });
  const signIns = await signInTimes(gh.url, email, mfaUsers, 20);
  const plainMs = median(signIns.plain);
  const challengeMs = median(signIns.challenge);
  const verifyMs = median(signIns.verify);
  results.mfa = { meOff: meMfa.off, meOn: meMfa.on, signIns };
  rows.push({
    figure: "sign-in with TOTP on: auth.login (challenge) + auth.verifyMfa, sequential, medians of 20",
    value: `${(challengeMs + verifyMs).toFixed(1)} ms = login ${challengeMs.toFixed(1)} + verifyMfa ${verifyMs.toFixed(1)} (no second factor: ${plainMs.toFixed(1)} ms)`,
    ratio: (challengeMs + verifyMs) / plainMs,
    of: "auth.login without a second factor",
    target: "",
  });
  rows.push({
    figure: "the challenge step alone: auth.verifyMfa (recovery code)",
    value: `${verifyMs.toFixed(1)} ms`,
    ratio: verifyMs / plainMs,
    of: `auth.login without a second factor (${plainMs.toFixed(1)} ms, bcrypt cost ${BCRYPT_COST})`,
    target: "",
  });
}
