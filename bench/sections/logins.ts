import bcrypt from "bcrypt";
import { BENCH_PASSWORD } from "../lib/load.ts";
import { progress, measure, median, DURATION, BCRYPT_COST, CORES, type BenchContext } from "../lib/context.ts";

/** Wall time of `CORES` bcrypt hashes run at once (what the cores deliver together, now). */
async function parallelBcryptMs(cost: number): Promise<number> {
  const t = performance.now();
  await Promise.all(Array.from({ length: CORES }, () => bcrypt.hash("gatehouse-bench-password", cost)));
  return performance.now() - t;
}

/** Median time of one bcrypt hash at the cost, on this machine, now. */
async function bcryptMs(cost: number, samples = 5): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = performance.now();
    await bcrypt.hash("gatehouse-bench-password", cost);
    times.push(performance.now() - t);
  }
  return times.sort((a, b) => a - b)[Math.floor(samples / 2)]!;
}

/** 4: logins against the hashing ceiling. */
export async function logins(ctx: BenchContext): Promise<void> {
  const { rows, results, gh, email } = ctx;
  progress(`bcrypt at cost ${BCRYPT_COST}: timing one hash`);
  const hashBefore = await bcryptMs(BCRYPT_COST, 3);

  const loginBody = JSON.stringify({ json: { email, password: BENCH_PASSWORD } });
  const loginLoad = {
    url: `${gh.url}/trpc/auth.login`,
    method: "POST" as const,
    headers: { "content-type": "application/json" },
    body: loginBody,
    duration: DURATION,
  };
  // Enough callers to keep every hashing slot busy, too few to overflow the queue.
  const login = await measure("auth.login throughput", { ...loginLoad, connections: CORES * 3 });
  // Timed before and after the logins, so that the ceiling sees the same machine they did.
  const hashMs = median([hashBefore, await bcryptMs(BCRYPT_COST, 3)]);
  const ceiling = (CORES * 1000) / hashMs;
  // For context: cores rarely deliver N times one hash at once (shared caches, SMT, neighbours).
  const parallelMs = Math.min(await parallelBcryptMs(BCRYPT_COST), await parallelBcryptMs(BCRYPT_COST));
  const parallelCeiling = (CORES * 1000) / parallelMs;
  results.login = { ...login, hashMs, ceiling, parallelMs, parallelCeiling, cores: CORES, cost: BCRYPT_COST };
  const loginErrors = login.non2xx + login.errors;
  rows.push({
    figure: `auth.login, bcrypt cost ${BCRYPT_COST}, ${CORES * 3} callers`,
    value: `${login.steadyRps.toFixed(2)} logins/s, ${loginErrors} errors`,
    ratio: login.steadyRps / ceiling,
    of: `ceiling ${ceiling.toFixed(2)}/s = ${CORES} cores / ${hashMs.toFixed(0)} ms`,
    target: "≥ 0.9, 0 errors",
    met: login.steadyRps / ceiling >= 0.9 && loginErrors === 0,
  });
  rows.push({
    figure: `auth.login against ${CORES} hashes run at once`,
    value: `${login.steadyRps.toFixed(2)} logins/s`,
    ratio: login.steadyRps / parallelCeiling,
    of: `${parallelCeiling.toFixed(2)}/s = ${CORES} / ${parallelMs.toFixed(0)} ms`,
    target: "",
  });
  ctx.loginLoad = loginLoad;
  ctx.ceiling = ceiling;
}
