/**
 * Password hashing on low-priority worker threads (server/passwords/hash-threads.ts):
 * hashes stay compatible with bcrypt's own, concurrency stays bounded, the
 * queue limit answers OVERLOADED, the threads run at a lowered priority, and
 * an idle pool never keeps a process alive.
 */
import bcrypt from "bcrypt";
import { spawnSync } from "node:child_process";
import { createHmac } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { availableParallelism } from "node:os";
import { describe, expect, it } from "vitest";
import { hashThreadNice } from "../server/passwords/hash-threads.ts";
import { PasswordHasher } from "../server/passwords/hasher.ts";
import { expectTRPCError } from "./helpers/errors.ts";

function hasher(options: { queueMax?: number; concurrency?: number } = {}) {
  return new PasswordHasher({ cost: 4, queueMax: options.queueMax ?? 64, concurrency: options.concurrency });
}

/** Nice values of this process's threads (Linux). */
function threadNices(): number[] {
  return readdirSync("/proc/self/task").map((t) => Number(readFileSync(`/proc/self/task/${t}/stat`, "utf8").split(") ")[1]!.split(" ")[16]));
}

describe("PasswordHasher on hashing threads", () => {
  it("verifies what it hashes, refuses other passwords, and keeps bytes past the 72nd", async () => {
    const h = hasher();
    const long = "x".repeat(72);
    const hash = await h.hash(`${long}a`);
    expect(hash).toMatch(/^\$2[aby]\$04\$/);
    expect(await h.verify(`${long}a`, hash)).toBe(true);
    expect(await h.verify(`${long}b`, hash)).toBe(false);
    expect(await h.verifyDummy("anything")).toBe(false);
  });

  it("stays compatible with hashes made by bcrypt's own async API over the same pre-hash", async () => {
    // What PasswordHasher always fed bcrypt: base64 HMAC-SHA-256 under its fixed key.
    const prehash = (pw: string) => createHmac("sha256", "gatehouse/bcrypt-prehash/v1").update(pw, "utf8").digest("base64");
    const h = hasher();
    const before = await bcrypt.hash(prehash("correct horse battery staple"), 4);
    expect(await h.verify("correct horse battery staple", before)).toBe(true);
    const now = await h.hash("correct horse battery staple");
    expect(await bcrypt.compare(prehash("correct horse battery staple"), now)).toBe(true);
  });

  it("runs at most `concurrency` hashes at once and refuses beyond the queue with OVERLOADED", async () => {
    const h = hasher({ concurrency: 2, queueMax: 3 });
    const calls = Array.from({ length: 5 }, (_, i) => h.hash(`password number ${i}`));
    expect(h.load).toMatchObject({ running: 2, waiting: 3 });
    await expectTRPCError(h.hash("one too many"), "SERVICE_UNAVAILABLE", "OVERLOADED");
    const hashes = await Promise.all(calls);
    expect(new Set(hashes).size).toBe(5);
    expect(h.load).toMatchObject({ running: 0, waiting: 0 });
  });

  it.runIf(process.platform === "linux")(`hashes on the process's few threads, which lowered their own priority${process.platform === "linux" ? "" : " (skipped: reads thread priorities from /proc, Linux only)"}`, async () => {
    // Many hashers (one per Services) share one pool of one thread per core.
    // Counted as a difference: earlier test files run in this same process
    // (vitest's forks are reused) and left their own module's pool behind.
    const lowered = () => threadNices().filter((n) => n === hashThreadNice()).length;
    const before = lowered();
    await Promise.all(Array.from({ length: 4 }, (_, i) => hasher({ concurrency: 2 }).hash(`password ${i}`)));
    const after = lowered();
    expect(after).toBeGreaterThanOrEqual(1);
    expect(after - before).toBeLessThanOrEqual(availableParallelism());
    // More hashers start no more threads.
    await Promise.all(Array.from({ length: 4 }, (_, i) => hasher({ concurrency: 2 }).hash(`password ${i}`)));
    expect(lowered()).toBe(after);
    // The event loop's own thread keeps the process's priority, ahead of the hashing threads
    // (also when the suite itself runs under `nice`).
    expect(Number(readFileSync("/proc/self/stat", "utf8").split(") ")[1]!.split(" ")[16])).toBeLessThan(hashThreadNice());
  });

  it("does not keep a process alive once it is idle", () => {
    const script = `
      const { PasswordHasher } = await import(${JSON.stringify(fileURLToPath(new URL("../server/passwords/hasher.ts", import.meta.url)))});
      const h = new PasswordHasher({ cost: 4, queueMax: 1 });
      console.log(await h.verify("pw", await h.hash("pw")));
    `;
    const result = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8", timeout: 20_000 });
    expect(result.stdout.trim()).toBe("true");
    expect(result.status).toBe(0);
  });
});
