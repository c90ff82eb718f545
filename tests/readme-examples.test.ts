/**
 * The README's calls run as written, in order, against a fresh server: the
 * shell blocks of its "Calling it" section are run by bash, with only the
 * address of `npm start` (http://127.0.0.1:3000) replaced by the test
 * server's. Every call must answer a result, never an error envelope.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { beforeAll, describe, expect, it } from "vitest";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

const README = readFileSync(fileURLToPath(new URL("../README.md", import.meta.url)), "utf8");
const run = promisify(execFile);

/** The ```sh blocks of a README section (from its heading to the next heading of level 2 or more: a code comment is "# "). */
function shellBlocks(heading: string): string[] {
  const start = README.indexOf(`\n${heading}\n`);
  expect(start, `README has a section "${heading}"`).toBeGreaterThan(-1);
  const end = README.slice(start + heading.length + 2).search(/\n#{2,6} /);
  const section = README.slice(start, end === -1 ? undefined : start + heading.length + 2 + end);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
}

let base: string;
beforeAll(async () => {
  base = (await startTestServer(await testServices(await openTestDatabase()))).url;
});

describe("the README's examples", () => {
  it('"Calling it" runs as written on a fresh server: register, login, me and refresh all answer results', async () => {
    const blocks = shellBlocks("## Calling it");
    expect(blocks.length).toBeGreaterThan(0);
    const script = blocks.join("\n").replaceAll("http://127.0.0.1:3000", base);
    const { stdout } = await run("bash", ["-euo", "pipefail", "-c", script], { timeout: 60_000 });
    const answers = stdout.trim().split(/(?<=\})\s*(?=\{"(?:result|error)")/).map((line) => JSON.parse(line.trim()) as Record<string, unknown>);
    expect(answers.map((a) => Object.keys(a))).toEqual([["result"], ["result"], ["result"], ["result"]]);
    expect(JSON.stringify(answers[2])).toContain('"email":"ada@example.com"');
  }, 90_000);
});
