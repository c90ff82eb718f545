/**
 * What serializing /trpc answers without superjson's walk
 * (server/superjson-plain.ts) saves over superjson itself, the plain path it
 * stands for: a 50-user `admin.listUsers` page, serialized and stringified as
 * the response is, by each path in interleaved rounds in this process.
 */
import { randomUUID } from "node:crypto";
import superjson from "superjson";
import type { UserPage } from "../../server/admin/user-list.ts";
import { serializePlain } from "../../server/superjson-plain.ts";
import { fastAgainstPlain, microsPerCall } from "./fast-vs-plain.ts";

/** Microseconds per page of each path (medians of the rounds). */
export async function serializeMicros(rounds = 5, perRound = 1_000): Promise<{ plain: number; superjson: number }> {
  const page: UserPage = {
    items: Array.from({ length: 50 }, (_, i) => ({
      id: randomUUID(),
      email: `seed9${i}@example.com`,
      name: `Seeded ${i}`,
      emailVerified: false,
      createdAt: new Date(),
      twoFactorEnabled: false,
      roles: [],
      disabledAt: null,
      disabledReason: null,
      lastLoginAt: null,
    })),
    nextCursor: "aTowMTkw",
  };
  const round = (serialize: (value: unknown) => unknown) => () => microsPerCall(perRound, () => JSON.stringify(serialize(page)));
  const { fast, plain } = await fastAgainstPlain(round(serializePlain), round((value) => superjson.serialize(value)), rounds);
  return { plain: fast, superjson: plain };
}
