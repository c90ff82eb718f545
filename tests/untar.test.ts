/**
 * The streaming tar reader a new DATA_DIR is unpacked with
 * (server/db/untar.ts, server/db/pglite-template.ts), on archives made here in
 * the ustar layout PGlite's `dumpDataDir` writes, fed in pieces that cut
 * headers, file data and padding at odd places.
 */
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { untar } from "../server/db/untar.ts";

const scratch = mkdtempSync(join(tmpdir(), "gatehouse-untar-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

type Entry = { name: string; dir: true } | { name: string; data: Buffer };

/** A ustar archive of these entries, ended by two zero blocks. */
function tarOf(entries: Entry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const entry of entries) {
    const header = Buffer.alloc(512);
    const data = "data" in entry ? entry.data : Buffer.alloc(0);
    header.write(entry.name, 0, 100, "utf8");
    header.write("0000600\0", 100);
    header.write(`${data.length.toString(8).padStart(11, "0")}\0`, 124);
    header.write("dir" in entry ? "5" : "0", 156);
    header.write("ustar\u000000", 257);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

/** The archive as a stream of `size`-byte pieces. */
async function* piecesOf(archive: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let at = 0; at < archive.length; at += size) yield archive.subarray(at, at + size);
}

const bytes = (length: number, seed: number) => Buffer.from(Array.from({ length }, (_, i) => (i * 31 + seed) % 251));

describe("untar", () => {
  const entries: Entry[] = [
    { name: "/PG_VERSION", data: Buffer.from("17\n") },
    { name: "/base", dir: true },
    { name: "/base/1/1255", data: bytes(70_000, 1) },
    { name: "/base/1/empty", data: Buffer.alloc(0) },
    { name: "/global/exact", data: bytes(1024, 2) },
    { name: "/pg_wal/archive_status", dir: true },
  ];

  for (const size of [7, 512, 1_000_000]) {
    it(`writes every file and directory with its bytes, owner-only, whatever the piece size (${size} bytes)`, async () => {
      const dir = join(scratch, `pieces-${size}`);
      await untar(piecesOf(tarOf(entries), size), dir);
      for (const entry of entries) {
        const path = join(dir, entry.name);
        if ("dir" in entry) expect(statSync(path).isDirectory()).toBe(true);
        else expect(readFileSync(path).equals(entry.data)).toBe(true);
        expect(statSync(path).mode & 0o777).toBe("dir" in entry ? 0o700 : 0o600);
      }
      expect(readdirSync(dir).sort()).toEqual(["PG_VERSION", "base", "global", "pg_wal"]);
    });
  }

  it("refuses an entry that would land outside the directory, and writes nothing there", async () => {
    const dir = join(scratch, "escape", "inner");
    const archive = tarOf([{ name: "../outside", data: Buffer.from("x") }]);
    await expect(untar(piecesOf(archive, 512), dir)).rejects.toThrow(/outside the target directory/);
    expect(existsSync(join(scratch, "escape", "outside"))).toBe(false);
  });

  it("refuses an archive cut short inside a file", async () => {
    const archive = tarOf([{ name: "/big", data: bytes(5_000, 3) }]).subarray(0, 512 + 1_000);
    await expect(untar(piecesOf(archive, 512), join(scratch, "cut"))).rejects.toThrow(/ends inside an entry/);
  });
});
