/**
 * A fenced fast path against the plain path it stands for, timed in this
 * process: each side once to warm up, then in interleaved rounds (a burst of
 * load from elsewhere then hits one round of one side, not a whole side),
 * medians of each. Used by the session lookup, token check and serializer rows.
 */
import { median } from "./context.ts";

/** One round of one side: microseconds per call. */
type Round = () => number | Promise<number>;

/** Microseconds per call of `work`, run `calls` times (synchronous work). */
export function microsPerCall(calls: number, work: (i: number) => void): number {
  const started = process.hrtime.bigint();
  for (let i = 0; i < calls; i++) work(i);
  return Number(process.hrtime.bigint() - started) / calls / 1000;
}

/** Medians over `rounds` interleaved rounds of each side, after one warm-up round each. */
export async function fastAgainstPlain(fast: Round, plain: Round, rounds = 5): Promise<{ fast: number; plain: number }> {
  await fast();
  await plain();
  const fastRuns: number[] = [];
  const plainRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    fastRuns.push(await fast());
    plainRuns.push(await plain());
  }
  return { fast: median(fastRuns), plain: median(plainRuns) };
}
