/**
 * What a TypeScript frontend does with `gatehouse/client`: register, read the
 * profile, let the access token expire, read it again (the client refreshes
 * by itself), log out.
 *
 *   ACCESS_TOKEN_TTL=1s npm start                   # a server whose tokens expire quickly
 *   npx tsx examples/frontend.ts                    # GATEHOUSE_URL defaults to http://127.0.0.1:3000/trpc
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createGatehouseClient, memoryTokenStore } from "gatehouse/client";

/** The server accepts a token up to 5 s past its expiry (clock skew between instances). */
const SERVER_LEEWAY_SECONDS = 5;

const url = process.env.GATEHOUSE_URL ?? "http://127.0.0.1:3000/trpc";
const tokens = memoryTokenStore();
const gh = createGatehouseClient({ url, tokens });

const email = `ada-${Date.now()}@example.com`;
const auth = await gh.auth.register.mutate({ email, password: "analytical engine 1843", name: "Ada Lovelace" });
console.log(`registered ${auth.user.email} (access token valid ${auth.expiresIn}s)`);

const me = await gh.auth.me.query();
console.log(`me: ${me.name} <${me.email}>, since ${me.createdAt.toISOString()}`);

if (auth.expiresIn <= 60) {
  const wait = auth.expiresIn + SERVER_LEEWAY_SECONDS + 1;
  console.log(`waiting ${wait}s for the access token to expire...`);
  await sleep(wait * 1000);
  const expired = tokens.get()?.accessToken;
  const again = await gh.auth.me.query();
  console.log(`me again: ${again.email} (token refreshed: ${tokens.get()?.accessToken !== expired})`);
} else {
  console.log("start the server with ACCESS_TOKEN_TTL=1s to watch the client refresh its token");
}

await gh.auth.logout.mutate();
console.log(`logged out (tokens stored: ${tokens.get() === null ? "none" : "some"})`);
