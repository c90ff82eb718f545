import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { parseEnv } from "../server/env.ts";
import { createSealer } from "../server/secrets/sealer.ts";

describe("sealer (AES-256-GCM under ENCRYPTION_KEY)", () => {
  const sealer = createSealer(randomBytes(32));

  it("opens what it sealed, and never stores the plaintext", () => {
    const sealed = sealer.seal("JBSWY3DPEHPK3PXP", "totp:u1");
    expect(sealed).not.toContain("JBSWY3DPEHPK3PXP");
    expect(sealer.open(sealed, "totp:u1")).toBe("JBSWY3DPEHPK3PXP");
  });

  it("seals the same value differently each time (a fresh IV)", () => {
    expect(sealer.seal("x", "c")).not.toBe(sealer.seal("x", "c"));
  });

  it("refuses a value moved to another context", () => {
    const sealed = sealer.seal("secret", "totp:u1");
    expect(() => sealer.open(sealed, "totp:u2")).toThrow();
  });

  it("refuses a tampered value and a value sealed under another key", () => {
    const sealed = sealer.seal("secret", "c");
    const tampered = sealed.slice(0, -2) + (sealed.endsWith("A") ? "BB" : "AA");
    expect(() => sealer.open(tampered, "c")).toThrow();
    expect(() => createSealer(randomBytes(32)).open(sealed, "c")).toThrow();
  });

  it("parses ENCRYPTION_KEY as base64 or hex, and names the variable when it is not 32 bytes", () => {
    const key = randomBytes(32);
    expect(parseEnv({ ENCRYPTION_KEY: key.toString("base64") }).encryptionKey).toEqual(key);
    expect(parseEnv({ ENCRYPTION_KEY: key.toString("hex") }).encryptionKey).toEqual(key);
    expect(() => parseEnv({ ENCRYPTION_KEY: "c2hvcnQ=" })).toThrow(/ENCRYPTION_KEY: must be 32 bytes/);
  });
});
