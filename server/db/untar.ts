/**
 * Unpacks a tar stream (ustar, regular files and directories: what PGlite's
 * `dumpDataDir` writes) into a directory, one chunk at a time: memory stays
 * at a chunk whatever the size of the archive. PGlite's own `loadDataDir`
 * holds the whole archive, its gunzipped copy and a copy of every file at
 * once: about 100 MB more at the peak of a first start (docs/performance.md).
 */
import { closeSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join, resolve, sep } from "node:path";
import { PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from "../data-dir.ts";

const BLOCK = 512;

/** A header's NUL-terminated text field. */
function text(header: Buffer, start: number, length: number): string {
  const field = header.subarray(start, start + length);
  const end = field.indexOf(0);
  return field.subarray(0, end === -1 ? length : end).toString("utf8");
}

/** Writes each entry of `tar` under `dir` (created if missing); entries are owner-only (../data-dir.ts). */
export async function untar(tar: AsyncIterable<Buffer>, dir: string): Promise<void> {
  const root = resolve(dir);
  mkdirSync(root, { recursive: true, mode: PRIVATE_DIR_MODE });
  let header = Buffer.alloc(0);
  let file = -1;
  let data = 0;
  let padding = 0;
  const closeFile = () => {
    closeSync(file);
    file = -1;
  };
  try {
    for await (let chunk of tar) {
      while (chunk.length > 0) {
        if (data > 0) {
          const part = chunk.subarray(0, data);
          writeSync(file, part);
          data -= part.length;
          chunk = chunk.subarray(part.length);
          if (data === 0) closeFile();
          continue;
        }
        if (padding > 0) {
          const skipped = Math.min(padding, chunk.length);
          padding -= skipped;
          chunk = chunk.subarray(skipped);
          continue;
        }
        const taken = Math.min(BLOCK - header.length, chunk.length);
        header = Buffer.concat([header, chunk.subarray(0, taken)]);
        chunk = chunk.subarray(taken);
        if (header.length < BLOCK) continue;
        const name = text(header, 0, 100);
        const type = String.fromCharCode(header[156] ?? 0);
        const size = parseInt(text(header, 124, 12).trim() || "0", 8);
        header = Buffer.alloc(0);
        if (name === "") continue; // the zero blocks that end the archive
        const path = resolve(root, `.${sep}${name}`);
        if (!path.startsWith(root + sep)) throw new Error(`tar entry outside the target directory: ${name}`);
        if (type === "5") {
          mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
        } else if (type === "0" || type === "\0") {
          mkdirSync(join(path, ".."), { recursive: true, mode: PRIVATE_DIR_MODE });
          file = openSync(path, "w", PRIVATE_FILE_MODE);
          data = size;
          padding = (BLOCK - (size % BLOCK)) % BLOCK;
          if (data === 0) closeFile();
        } else {
          throw new Error(`tar entry of unsupported type ${JSON.stringify(type)}: ${name}`);
        }
      }
    }
    if (data > 0 || padding > 0 || header.length > 0) throw new Error("tar archive ends inside an entry");
  } finally {
    if (file !== -1) closeFile();
  }
}
