/**
 * docs/API.md, written from the router itself (`npm run docs`): every
 * procedure with its kind, auth, REST route, input and output (from its zod
 * schemas) and the appCodes it may answer, then the whole error catalogue.
 * tests/api-reference.test.ts fails when the file on disk differs.
 */
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import * as z from "zod";
import { appRouter } from "../../routers/_app.ts";
import { APP_CODES, appError, messageOf, trpcCodeOf } from "../../server/errors.ts";
import { REST_BASE, restOperationOf } from "../../server/http/openapi.ts";
import type { ProcedureMeta } from "../../server/procedure-meta.ts";
import { requiresBearer } from "../../server/trpc.ts";

interface ProcedureDef {
  type: "query" | "mutation" | "subscription";
  meta?: ProcedureMeta & { permission?: unknown };
  inputs: z.ZodType[];
  output?: z.ZodType;
  middlewares: unknown[];
}

type JsonSchema = {
  type?: string | string[];
  format?: string;
  const?: unknown;
  enum?: unknown[];
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  items?: JsonSchema;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  additionalProperties?: JsonSchema | boolean;
  description?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
};

function jsonSchemaOf(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  return z.toJSONSchema(schema, {
    io,
    unrepresentable: "any",
    override: ({ zodSchema, jsonSchema }) => {
      // superjson carries dates as Date objects on /trpc (ISO strings on /api).
      const def = zodSchema._zod.def;
      if (def.type === "date") Object.assign(jsonSchema, { type: "string", format: "date" });
      // An input normalised then checked (Email: trim, lower-case, then z.email()) is named by its last check.
      if (def.type === "pipe" && io === "input" && "format" in def.out._zod.def) jsonSchema.format = String(def.out._zod.def.format);
    },
  }) as JsonSchema;
}

function range(min: number | undefined, max: number | undefined, unit: string): string | null {
  if (min === undefined && max === undefined) return null;
  if (min === max) return `${min}${unit}`;
  if (max === undefined) return `≥ ${min}${unit}`;
  return min === undefined || min === 0 ? `≤ ${max}${unit}` : `${min}–${max}${unit}`;
}

/** The checks a value must pass, in words: `email, ≤ 254 chars`. */
function constraints(schema: JsonSchema): string {
  const notes = [
    schema.format && schema.format !== "date" ? schema.format : null,
    range(schema.minLength, schema.maxLength, " chars"),
    range(schema.minItems, schema.maxItems, " items"),
    // z.number().int() bounds itself to the safe integers: no news.
    schema.minimum === Number.MIN_SAFE_INTEGER ? null : range(schema.minimum, schema.maximum, ""),
    schema.pattern && !schema.format ? `matches \`/${schema.pattern}/\`` : null,
    schema.description ?? null,
  ];
  return notes.filter((note) => note !== null).join(", ");
}

/** A JSON schema as a TypeScript-like type, objects indented one property a line. */
function typeText(schema: JsonSchema, indent = ""): string {
  if (schema.const !== undefined) return JSON.stringify(schema.const);
  if (schema.enum) return schema.enum.map((value) => JSON.stringify(value)).join(" | ");
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return union.map((member) => typeText(member, indent)).join(" | ");
  if (Array.isArray(schema.type)) return schema.type.map((type) => typeText({ ...schema, type }, indent)).join(" | ");
  switch (schema.type) {
    case "string":
      return schema.format === "date" ? "Date" : "string";
    case "integer":
      return "integer";
    case "number":
    case "boolean":
    case "null":
      return schema.type;
    case "array": {
      const item = typeText(schema.items ?? {}, indent);
      return item.includes(" | ") ? `(${item})[]` : `${item}[]`;
    }
    case "object": {
      if (!schema.properties) {
        const values = typeof schema.additionalProperties === "object" ? typeText(schema.additionalProperties, indent) : "unknown";
        return `Record<string, ${values}>`;
      }
      const inner = `${indent}  `;
      const lines = Object.entries(schema.properties).map(([name, property]) => {
        const optional = schema.required?.includes(name) ? "" : "?";
        const note = constraints(property);
        return `${inner}${name}${optional}: ${typeText(property, inner)};${note ? ` // ${note}` : ""}`;
      });
      return lines.length === 0 ? "{}" : `{\n${lines.join("\n")}\n${indent}}`;
    }
    default:
      return "unknown";
  }
}

function inputText(inputs: z.ZodType[]): string {
  if (inputs.length === 0) return " none";
  const schema = inputs.length === 1 ? inputs[0]! : z.intersection(inputs[0]!, inputs[1]!);
  const optional = schema.safeParse(undefined).success ? " (may be omitted)" : "";
  return `${optional}\n\n\`\`\`ts\n${typeText(jsonSchemaOf(schema, "input"))}\n\`\`\``;
}

function outputText(output: z.ZodType | undefined, type: ProcedureDef["type"]): string {
  if (!output) return type === "subscription" ? " a stream of events (see the procedure's summary)" : " not declared";
  return `\n\n\`\`\`ts\n${typeText(jsonSchemaOf(output, "output"))}\n\`\`\``;
}

function procedureSection(path: string, def: ProcedureDef): string {
  const rest = restOperationOf(path, { _def: def });
  const facts = [
    `**${def.type}**`,
    requiresBearer({ _def: def }) ? "bearer token" : "public",
    ...(def.meta?.permission ? [`permission \`${String(def.meta.permission)}\``] : []),
    rest ? `\`${rest.method} ${REST_BASE}${rest.path}\`` : "`/trpc` only",
  ];
  const errors = rest
    ? Object.entries(rest.errorResponses)
        .map(([status, codes]) => `${status} ${codes}`)
        .join(" · ")
    : null;
  return [
    `### \`${path}\``,
    "",
    facts.join(" · "),
    ...(def.meta?.summary ? ["", def.meta.summary] : []),
    "",
    `Input:${inputText(def.inputs)}`,
    "",
    `Output:${outputText(def.output, def.type)}`,
    ...(errors ? ["", `Errors: ${errors}`] : []),
    "",
  ].join("\n");
}

function catalogueTable(): string {
  const rows = APP_CODES.map(
    (code) => `| \`${code}\` | ${getHTTPStatusCodeFromError(appError(code))} | ${trpcCodeOf(code)} | ${messageOf(code)} |`,
  );
  return ["| appCode | HTTP | tRPC code | Message |", "| --- | --- | --- | --- |", ...rows].join("\n");
}

/** The whole of docs/API.md. */
export function renderApiReference(): string {
  // `_def.procedures` is flat at run time ("auth.login" → procedure), whatever its type says.
  const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: ProcedureDef }>);
  const sections: string[] = [];
  let group: string | undefined;
  for (const [path, procedure] of procedures) {
    const head = path.includes(".") ? path.split(".", 1)[0]! : "top level";
    if (head !== group) sections.push(`## ${(group = head)}\n`);
    sections.push(procedureSection(path, procedure._def));
  }
  return `<!-- Generated by \`npm run docs\` from routers/_app.ts and server/errors.ts. Do not edit by hand. -->
# Gatehouse API reference

Every procedure of the router, as served on \`/trpc\` (tRPC, superjson) and, where
a REST route is listed, on \`/api\` (plain JSON; \`GET /openapi.json\` describes it).
"Bearer token" procedures need \`Authorization: Bearer <accessToken>\` and may also
answer TOKEN_MISSING, TOKEN_INVALID, TOKEN_EXPIRED or SESSION_REVOKED. Every error
carries an \`appCode\` from the catalogue at the end.

${sections.join("\n")}
## Error catalogue

${catalogueTable()}
`;
}
