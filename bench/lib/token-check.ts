/**
 * What keeping checked access tokens (server/sessions/access-token.ts) saves
 * over checking each token in full, the plain path it stands for: the same
 * token verified again and again in this process, by an instance that keeps
 * checked tokens and by one that does not (`cacheSize: 0`), in interleaved rounds.
 */
import { randomUUID } from "node:crypto";
import { AccessTokens } from "../../server/sessions/access-token.ts";
import { SECRET } from "./context.ts";

/** Microseconds per check of each path (medians of the rounds). */
export function tokenCheckMicros(rounds = 5, perRound = 20_000): { kept: number; full: number } {
  const keyring = { signingAlg: null, signer: () => undefined, verifier: () => undefined };
  const kept = new AccessTokens({ secret: SECRET, keyring, ttlSeconds: 900 });
  const full = new AccessTokens({ secret: SECRET, keyring, ttlSeconds: 900, cacheSize: 0 });
  const now = new Date();
  const token = kept.sign(randomUUID(), randomUUID(), now);
  // A new string each time, as each request's header is: its hash is computed again.
  const copies = Array.from({ length: perRound }, () => Buffer.from(token).toString());
  const time = (tokens: AccessTokens): number => {
    const started = process.hrtime.bigint();
    for (const copy of copies) tokens.verify(copy, now);
    return Number(process.hrtime.bigint() - started) / perRound / 1000;
  };
  time(kept);
  time(full);
  const keptRuns: number[] = [];
  const fullRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    keptRuns.push(time(kept));
    fullRuns.push(time(full));
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return { kept: median(keptRuns), full: median(fullRuns) };
}
