import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { renderApiReference } from "../scripts/lib/api-reference.ts";
import { APP_CODES } from "../server/errors.ts";
import { projectPath } from "../server/paths.ts";

describe("docs/API.md", () => {
  it("is what `npm run docs` writes from the router today (run it after changing a procedure)", () => {
    expect(readFileSync(projectPath("docs/API.md"), "utf8")).toBe(renderApiReference());
  });

  it("lists every procedure of the router and every appCode of the catalogue", async () => {
    const { appRouter } = await import("../routers/_app.ts");
    const reference = renderApiReference();
    for (const path of Object.keys(appRouter._def.procedures)) expect(reference).toContain(`### \`${path}\``);
    for (const code of APP_CODES) expect(reference).toContain(`| \`${code}\` |`);
  });
});
