/** `npm run docs`: writes docs/API.md from the router (scripts/lib/api-reference.ts). */
import { writeFileSync } from "node:fs";
import { projectPath } from "../server/paths.ts";
import { renderApiReference } from "./lib/api-reference.ts";

writeFileSync(projectPath("docs/API.md"), renderApiReference());
console.log("wrote docs/API.md");
