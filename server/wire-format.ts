/**
 * The body format of `/trpc`: superjson, which wraps every input as
 * `{"json": <input>, "meta": ...}`. A body sent as plain JSON (the REST
 * bridge's format) would otherwise be read as "no input" and answered with a
 * puzzling "expected object, received undefined"; it is refused here with a
 * message that says what to send instead.
 */
import type { TRPCCombinedDataTransformer } from "@trpc/server";
import superjson from "superjson";
import { serializePlain } from "./superjson-plain.ts";

export const MISSING_WRAPPER_MESSAGE =
  'Invalid input: /trpc bodies are superjson: wrap the input as {"json": ...}, e.g. {"json":{"email":"ada@example.com","password":"..."}} (plain JSON bodies go to the REST bridge, /api/...)';

/** An input that is not superjson's `{"json": ...}` object: plain JSON where superjson was expected. */
export class MissingWrapperError extends Error {
  constructor() {
    super(MISSING_WRAPPER_MESSAGE);
    this.name = "MissingWrapperError";
  }
}

function isUnwrapped(value: unknown): boolean {
  // A bare string, number, boolean or array is never superjson's output.
  if (value === null) return false;
  if (typeof value !== "object" || Array.isArray(value)) return true;
  // `{}` is what a client sends for a procedure without input ({"json": undefined} serialised).
  const keys = Object.keys(value);
  return keys.length > 0 && !keys.includes("json");
}

/** superjson, refusing inputs that lack its wrapper. */
export const wireTransformer: TRPCCombinedDataTransformer = {
  input: {
    serialize: (value: unknown) => superjson.serialize(value),
    deserialize: (value: unknown) => {
      if (isUnwrapped(value)) throw new MissingWrapperError();
      return superjson.deserialize(value as Parameters<typeof superjson.deserialize>[0]);
    },
  },
  output: {
    // The same JSON as superjson's, faster for plain values (server/superjson-plain.ts).
    serialize: (value: unknown) => serializePlain(value) ?? superjson.serialize(value),
    deserialize: (value: unknown) => superjson.deserialize(value as Parameters<typeof superjson.deserialize>[0]),
  },
};
