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

/** Microseconds per page of each path (medians of the rounds). */
export function serializeMicros(rounds = 5, perRound = 1_000): { plain: number; superjson: number } {
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
  const time = (serialize: (value: unknown) => unknown): number => {
    const started = process.hrtime.bigint();
    for (let i = 0; i < perRound; i++) JSON.stringify(serialize(page));
    return Number(process.hrtime.bigint() - started) / perRound / 1000;
  };
  const plain = (value: unknown) => serializePlain(value);
  const full = (value: unknown) => superjson.serialize(value);
  time(plain);
  time(full);
  const plainRuns: number[] = [];
  const fullRuns: number[] = [];
  for (let round = 0; round < rounds; round++) {
    plainRuns.push(time(plain));
    fullRuns.push(time(full));
  }
  const median = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
  return { plain: median(plainRuns), superjson: median(fullRuns) };
}
