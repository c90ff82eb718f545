/**
 * The second factor's bench figures: what the challenge step adds to a
 * sign-in, and `auth.me` for a user with TOTP on against one without (the
 * session lookup reads `two_factor_enabled` in its one statement, so the two
 * should not differ).
 */
import { Secret, TOTP } from "otpauth";
import { BENCH_PASSWORD, load, mutate, registerAccount, type LoadResult } from "./load.ts";

/** A fresh account with TOTP on: its email, access token and recovery codes. */
export async function enrolledAccount(baseUrl: string, tag: string): Promise<{ email: string; accessToken: string; recoveryCodes: string[] }> {
  const { email, accessToken } = await registerAccount(baseUrl, tag);
  const setup = await mutate<{ secret: string }>(baseUrl, "mfa.totpSetup", { password: BENCH_PASSWORD }, accessToken);
  const code = new TOTP({ secret: Secret.fromBase32(setup.secret) }).generate();
  const { recoveryCodes } = await mutate<{ recoveryCodes: string[] }>(baseUrl, "mfa.totpEnable", { code }, accessToken);
  return { email, accessToken, recoveryCodes };
}

type LoginAnswer = { mfaRequired: false; accessToken: string } | { mfaRequired: true; mfaToken: string };

/** Milliseconds of one call. */
async function timed<T>(call: () => Promise<T>): Promise<[T, number]> {
  const t = performance.now();
  const value = await call();
  return [value, performance.now() - t];
}

export interface SignInTimes {
  /** auth.login of a user without a second factor. */
  plain: number[];
  /** auth.login answering the challenge, for a user with TOTP on. */
  challenge: number[];
  /** auth.verifyMfa with a recovery code. */
  verify: number[];
}

/**
 * Sequential sign-ins, alternating a user without a second factor and one
 * with TOTP on (completing with recovery codes: a TOTP code works once per
 * 30-second step). `rounds` must not exceed the recovery codes held.
 */
export async function signInTimes(baseUrl: string, plainEmail: string, mfa: { email: string; recoveryCodes: string[] }[], rounds: number): Promise<SignInTimes> {
  const codes = mfa.flatMap((account) => account.recoveryCodes.map((code) => ({ email: account.email, code })));
  if (codes.length < rounds) throw new Error(`${rounds} rounds need ${rounds} recovery codes, have ${codes.length}`);
  const times: SignInTimes = { plain: [], challenge: [], verify: [] };
  for (let i = 0; i < rounds; i++) {
    const [, plain] = await timed(() => mutate<LoginAnswer>(baseUrl, "auth.login", { email: plainEmail, password: BENCH_PASSWORD }));
    const { email, code } = codes[i]!;
    const [answer, challenge] = await timed(() => mutate<LoginAnswer>(baseUrl, "auth.login", { email, password: BENCH_PASSWORD }));
    if (!answer.mfaRequired) throw new Error("expected a second-factor challenge");
    const [, verify] = await timed(() => mutate(baseUrl, "auth.verifyMfa", { mfaToken: answer.mfaToken, code }));
    times.plain.push(plain);
    times.challenge.push(challenge);
    times.verify.push(verify);
  }
  return times;
}

/** `auth.me` runs for two tokens, interleaved (`runs` each). */
export async function meInterleaved(
  url: string,
  tokens: { off: string; on: string },
  options: { connections: number; duration: number; runs: number },
): Promise<{ off: LoadResult[]; on: LoadResult[] }> {
  const at = (token: string) => load({ url, headers: { authorization: `Bearer ${token}` }, connections: options.connections, duration: options.duration });
  const off: LoadResult[] = [];
  const on: LoadResult[] = [];
  for (let i = 0; i < options.runs; i++) {
    off.push(await at(tokens.off));
    on.push(await at(tokens.on));
  }
  return { off, on };
}
