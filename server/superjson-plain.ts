/**
 * superjson's `serialize` for the values procedures return (plain objects,
 * arrays, strings, finite numbers, booleans, null and valid Dates), without
 * superjson's walk; `null` for anything else, which then goes to superjson.
 *
 * Why: superjson copies the whole value, and allocates a path array and an
 * ancestors array for every node and a Map entry for every object, so that it
 * can annotate any type and find shared references. On a 50-user page of
 * `admin.listUsers` that walk was 16 % of the server's CPU, and its garbage
 * much of the 23 % spent collecting (profile and A/B in docs/performance.md).
 *
 * What: the JSON of the result is the JSON of superjson's result, byte for
 * byte. `json` is the value itself (`JSON.stringify` writes a Date as the
 * `toISOString()` superjson would put there), and `meta.values` annotates each
 * Date's path with `["Date"]`, keys escaped and in superjson's order. Anything whose answer would differ is left to
 * superjson: `undefined`, NaN, ±Infinity, -0, bigint, symbols, functions, Maps,
 * Sets, Errors, RegExps, class instances, invalid Dates, array holes, the keys
 * superjson refuses, and any object met twice (superjson records shared
 * references). It assumes nothing is registered on superjson (no custom
 * transformer, class or symbol; Gatehouse registers none).
 * tests/superjson-plain.test.ts compares it with superjson on a corpus and on
 * generated values.
 */
import type { SuperJSONResult } from "superjson";

/** superjson's annotations of a node: `["Date"]` for a Date, the paths of the Dates below it for an object or array, none for the rest. */
type Annotations = ["Date"] | Record<string, ["Date"]> | undefined;

/** A value superjson would write differently: the walk stops and superjson answers. */
const LEFT_TO_SUPERJSON = Symbol("left to superjson");

/** Keys superjson refuses (prototype pollution) and so throws on: left to it. */
const REFUSED_KEYS = new Set(["__proto__", "constructor", "prototype"]);

/** superjson's path segment: `\` and `.` escaped. */
function escapeKey(key: string): string {
  return key.replace(/\\/g, "\\\\").replace(/\./g, "\\.");
}

/**
 * The annotations of `value`, built level by level as superjson's walker
 * builds them (so that their keys come out in its order: JavaScript puts
 * integer-like keys first at each level), or LEFT_TO_SUPERJSON.
 */
function walk(value: unknown, seen: Set<object>): Annotations | typeof LEFT_TO_SUPERJSON {
  switch (typeof value) {
    case "string":
    case "boolean":
      return undefined;
    case "number":
      // superjson annotates NaN, ±Infinity and -0.
      return Number.isFinite(value) && !Object.is(value, -0) ? undefined : LEFT_TO_SUPERJSON;
    case "object":
      break;
    default:
      return LEFT_TO_SUPERJSON;
  }
  if (value === null) return undefined;
  if (seen.has(value)) return LEFT_TO_SUPERJSON;
  seen.add(value);
  // An own `toJSON` would change what JSON.stringify writes for the value itself.
  if (Object.hasOwn(value, "toJSON") && typeof (value as { toJSON: unknown }).toJSON === "function") return LEFT_TO_SUPERJSON;
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto === Date.prototype) return Number.isNaN((value as Date).getTime()) ? LEFT_TO_SUPERJSON : ["Date"];
  const isArray = Array.isArray(value);
  if (isArray ? proto !== Array.prototype : proto !== Object.prototype && proto !== null) return LEFT_TO_SUPERJSON;
  const keys = Object.keys(value);
  // superjson walks an array's own keys (holes skipped, extra properties included); JSON writes its indexes.
  if (isArray && keys.length !== value.length) return LEFT_TO_SUPERJSON;
  let inner: Record<string, ["Date"]> | undefined;
  for (const key of keys) {
    if (REFUSED_KEYS.has(key)) return LEFT_TO_SUPERJSON;
    const below = walk((value as Record<string, unknown>)[key], seen);
    if (below === undefined) continue;
    if (below === LEFT_TO_SUPERJSON) return LEFT_TO_SUPERJSON;
    inner ??= {};
    if (Array.isArray(below)) inner[escapeKey(key)] = below;
    else for (const path of Object.keys(below)) inner[`${escapeKey(key)}.${path}`] = below[path]!;
  }
  return inner;
}

/** What `superjson.serialize(value)` answers, for the values described above; null for the others. */
export function serializePlain(value: unknown): SuperJSONResult | null {
  const annotations = walk(value, new Set());
  // A Date at the root is annotated with the array itself, not a path: left to superjson too.
  if (annotations === LEFT_TO_SUPERJSON || Array.isArray(annotations)) return null;
  const json = value as SuperJSONResult["json"];
  return annotations === undefined ? { json } : { json, meta: { values: annotations, v: 1 } };
}
