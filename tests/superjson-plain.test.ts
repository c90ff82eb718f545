/**
 * The fast superjson serializer (server/superjson-plain.ts) against superjson
 * itself: whenever it answers, its JSON is superjson's, byte for byte; it
 * answers for the values procedures return, and leaves the rest to superjson.
 */
import fc from "fast-check";
import superjson from "superjson";
import { describe, expect, it } from "vitest";
import { serializePlain } from "../server/superjson-plain.ts";
import { wireTransformer } from "../server/wire-format.ts";

const date = new Date("2026-11-30T12:00:00.123Z");

/** An admin.listUsers page as the procedure returns it. */
const page = {
  items: Array.from({ length: 3 }, (_, i) => ({
    id: `0190c3a2-0000-7000-8000-00000000000${i}`,
    email: `seed9${i}@example.com`,
    name: `Seeded ${i}`,
    emailVerified: i === 0,
    createdAt: new Date(date.getTime() + i),
    twoFactorEnabled: false,
    roles: i === 1 ? ["support"] : [],
    disabledAt: i === 2 ? new Date(date.getTime() - i) : null,
    disabledReason: i === 2 ? "spam" : null,
    lastLoginAt: null,
  })),
  nextCursor: "aTowMTkw",
};

/** Asserts that the fast answer, when there is one, writes superjson's JSON (or that it leaves superjson's errors to superjson); returns whether there was one. */
function sameAsSuperjson(value: unknown): boolean {
  const fast = serializePlain(value);
  let expected: string;
  try {
    expected = JSON.stringify(superjson.serialize(value));
  } catch (error) {
    expect(fast).toBeNull();
    expect(() => wireTransformer.output.serialize(value)).toThrow((error as Error).message);
    return false;
  }
  if (fast !== null) expect(JSON.stringify(fast)).toBe(expected);
  // Through the transformer /trpc uses: superjson's bytes either way.
  expect(JSON.stringify(wireTransformer.output.serialize(value))).toBe(expected);
  return fast !== null;
}

describe("serializePlain", () => {
  it("answers an admin.listUsers page with superjson's bytes (Dates annotated by path, in walk order)", () => {
    expect(sameAsSuperjson(page)).toBe(true);
    expect(serializePlain(page)?.meta?.values).toEqual({
      "items.0.createdAt": ["Date"],
      "items.1.createdAt": ["Date"],
      "items.2.createdAt": ["Date"],
      "items.2.disabledAt": ["Date"],
    });
  });

  it("answers plain values with superjson's bytes, without meta when nothing is annotated", () => {
    for (const value of [null, 0, -1.5, "", "text", true, [], {}, [1, "a", null], { a: { b: [{ c: 1 }] } }, Object.assign(Object.create(null), { a: 1 })]) {
      expect(sameAsSuperjson(value), JSON.stringify(value)).toBe(true);
    }
    expect(serializePlain({ a: 1 })).toEqual({ json: { a: 1 } });
  });

  it("escapes dots and backslashes in annotated keys as superjson does", () => {
    expect(sameAsSuperjson({ "a.b": { "c\\d": new Date(date) }, "": [new Date(date)] })).toBe(true);
  });

  it("leaves to superjson what it would write differently", () => {
    class Point {
      constructor(readonly x: number) {}
    }
    const shared = { a: 1 };
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const sparse = [1, , 3];
    const withToJSON = Object.assign(new Date(date), { toJSON: () => "x" });
    for (const value of [
      undefined,
      { a: undefined },
      [undefined],
      Number.NaN,
      { n: Number.POSITIVE_INFINITY },
      { n: Number.NEGATIVE_INFINITY },
      [-0],
      10n,
      { s: Symbol("s") },
      { f: () => 1 },
      new Map([[1, 2]]),
      { s: new Set([1]) },
      { e: new Error("boom") },
      { r: /x/g },
      { u: new URL("https://example.com/") },
      { p: new Point(1) },
      { d: new Date(Number.NaN) },
      date,
      sparse,
      { shared, again: shared },
      { d: date, again: date },
      cyclic,
      { w: withToJSON },
      { a: new Uint8Array([1]) },
    ]) {
      expect(serializePlain(value)).toBeNull();
      if (value !== cyclic) sameAsSuperjson(value);
    }
  });

  it("leaves keys superjson refuses to superjson, which throws", () => {
    const value = JSON.parse('{"a":{"__proto__":1}}') as unknown;
    expect(serializePlain(value)).toBeNull();
    expect(serializePlain({ constructor: 1 })).toBeNull();
    expect(() => wireTransformer.output.serialize({ prototype: 1 })).toThrow(/prototype pollution/);
  });

  it("writes superjson's bytes for generated plain values with Dates, and answers most of them", () => {
    const leaf = fc.oneof(fc.string(), fc.double(), fc.boolean(), fc.constant(null), fc.date({ noInvalidDate: true }));
    const { value } = fc.letrec((tie) => ({
      value: fc.oneof({ depthSize: "small" }, leaf, fc.array(tie("value")), fc.dictionary(fc.string(), tie("value"))),
    }));
    let answered = 0;
    fc.assert(
      fc.property(value, (v) => {
        if (sameAsSuperjson(v)) answered++;
      }),
      { numRuns: 1000 },
    );
    // Only -0, NaN and ±Infinity (from fc.double) go to superjson here.
    expect(answered).toBeGreaterThan(500);
  });

  it("writes superjson's bytes through the transformer for any generated value, exotic ones included", () => {
    const values = fc.anything({
      withDate: true,
      withNullPrototype: true,
      withMap: true,
      withSet: true,
      withBigInt: true,
      withSparseArray: true,
      withTypedArray: true,
      withBoxedValues: true,
      maxDepth: 4,
    });
    fc.assert(
      fc.property(values, (value) => {
        sameAsSuperjson(value);
      }),
      { numRuns: 2000 },
    );
  });
});
