/**
 * What keeping checked access tokens (server/sessions/access-token.ts) saves
 * over checking each token in full, the plain path it stands for: the same
 * token verified again and again in this process, by an instance that keeps
 * checked tokens and by one that does not (`cacheSize: 0`), in interleaved
 * rounds (./fast-vs-plain.ts).
 */
import { randomUUID } from "node:crypto";
import { AccessTokens } from "../../server/sessions/access-token.ts";
import { SECRET } from "./context.ts";
import { fastAgainstPlain, microsPerCall } from "./fast-vs-plain.ts";

/** Microseconds per check of each path (medians of the rounds). */
export async function tokenCheckMicros(rounds = 5, perRound = 20_000): Promise<{ kept: number; full: number }> {
  const keyring = { signingAlg: null, signer: () => undefined, verifier: () => undefined };
  const kept = new AccessTokens({ secret: SECRET, keyring, ttlSeconds: 900 });
  const full = new AccessTokens({ secret: SECRET, keyring, ttlSeconds: 900, cacheSize: 0 });
  const now = new Date();
  const token = kept.sign(randomUUID(), randomUUID(), now);
  // A new string each time, as each request's header is: its hash is computed again.
  const copies = Array.from({ length: perRound }, () => Buffer.from(token).toString());
  const round = (tokens: AccessTokens) => () => microsPerCall(perRound, (i) => tokens.verify(copies[i]!, now));
  const { fast, plain } = await fastAgainstPlain(round(kept), round(full), rounds);
  return { kept: fast, full: plain };
}
