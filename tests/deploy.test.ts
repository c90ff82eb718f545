/**
 * The deploy files (Dockerfile, compose.yaml, deploy/k8s/): no Docker engine
 * or cluster runs here, so what can be checked is checked without one.
 *
 * - Every Kubernetes manifest validates against the Kubernetes schemas
 *   (kubernetes-models), and says what an operator relies on: probes,
 *   resources, a locked-down securityContext, secrets from a Secret.
 * - The Dockerfile passes a Dockerfile linter (dockerfile-utils).
 * - The production file set the Dockerfile's runtime stage copies is built
 *   here from its own COPY lines, without the development dependencies, then
 *   migrated with the migration command of compose.yaml and the Job, started
 *   with the image's CMD and ENV, and reaches /readyz through the image's own
 *   HEALTHCHECK command.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { copyFileSync, cpSync, existsSync, linkSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { validate as lintDockerfile } from "dockerfile-utils";
import { afterAll, describe, expect, it, inject } from "vitest";
import { parseAllDocuments, parse as parseYaml } from "yaml";
import { createDatabase, databaseUrlFor } from "./helpers/scratch-postgres.ts";
import { freePort } from "./helpers/ports.ts";
import { ROOT } from "./helpers/production-server.ts";
import { onPostgres } from "./helpers/database.ts";

type Manifest = { apiVersion: string; kind: string; metadata: { name: string; labels?: Record<string, string> }; spec?: any; data?: any };

const K8S_DIR = join(ROOT, "deploy/k8s");
const manifestFiles = readdirSync(K8S_DIR).filter((f) => f.endsWith(".yaml") && f !== "kustomization.yaml");
const manifests: Manifest[] = manifestFiles.flatMap((file) =>
  parseAllDocuments(readFileSync(join(K8S_DIR, file), "utf8")).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors.map((e) => e.message).join("; ")}`);
    return doc.toJS() as Manifest;
  }),
);
const kustomization = parseYaml(readFileSync(join(K8S_DIR, "kustomization.yaml"), "utf8")) as { resources: string[] };
const compose = parseYaml(readFileSync(join(ROOT, "compose.yaml"), "utf8")) as { services: Record<string, any> };
const dockerfile = readFileSync(join(ROOT, "Dockerfile"), "utf8");

const byKind = (kind: string) => {
  const found = manifests.filter((m) => m.kind === kind);
  expect(found, kind).toHaveLength(1);
  return found[0]!;
};

/** The kubernetes-models class of an apiVersion and kind, e.g. apps/v1 Deployment. */
async function modelOf(apiVersion: string, kind: string): Promise<new (data: unknown) => { validate(): void }> {
  const group = apiVersion.includes("/") ? apiVersion : `v1`;
  const path = apiVersion.includes("/") ? `kubernetes-models/${group}/${kind}` : `kubernetes-models/v1/${kind}`;
  const module = (await import(path)) as Record<string, new (data: unknown) => { validate(): void }>;
  return module[kind]!;
}

describe("Kubernetes manifests", () => {
  it("validate against the Kubernetes schemas", async () => {
    expect(manifests.map((m) => m.kind).sort()).toEqual(["ConfigMap", "Deployment", "Job", "PodDisruptionBudget", "Secret", "Service"]);
    for (const manifest of manifests) {
      const Model = await modelOf(manifest.apiVersion, manifest.kind);
      expect(() => new Model(manifest).validate(), `${manifest.kind} ${manifest.metadata.name}`).not.toThrow();
    }
  });

  it("fail the schema check when a field has the wrong type (the check can fail)", async () => {
    const deployment = structuredClone(byKind("Deployment"));
    deployment.spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem = "yes";
    const Model = await modelOf(deployment.apiVersion, deployment.kind);
    expect(() => new Model(deployment).validate()).toThrow(/readOnlyRootFilesystem must be boolean/);
  });

  it("are all in the kustomization, except the example Secret", () => {
    const listed = [...kustomization.resources].sort();
    expect(listed).toEqual(manifestFiles.filter((f) => f !== "secret.example.yaml").sort());
  });

  it("run the server with probes, resources and a locked-down securityContext, secrets from the Secret", () => {
    const deployment = byKind("Deployment");
    const pod = deployment.spec.template.spec;
    const [container] = pod.containers;
    expect(container.readinessProbe.httpGet).toEqual({ path: "/readyz", port: "http" });
    expect(container.livenessProbe.httpGet).toEqual({ path: "/healthz", port: "http" });
    expect(container.ports).toEqual([{ name: "http", containerPort: 3000 }]);
    expect(Object.keys(container.resources.requests).sort()).toEqual(["cpu", "memory"]);
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ["ALL"] } });
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.envFrom).toEqual([{ configMapRef: { name: "gatehouse" } }, { secretRef: { name: "gatehouse" } }]);
    // No secret value written into the manifests themselves.
    expect(JSON.stringify(container.env ?? [])).not.toMatch(/SECRET|PASSWORD|TOKEN|KEY|DATABASE_URL|REDIS_URL/);
    const config = byKind("ConfigMap").data as Record<string, string>;
    for (const name of ["JWT_SECRET", "ENCRYPTION_KEY", "DATABASE_URL", "REDIS_URL", "METRICS_TOKEN"]) expect(config[name], name).toBeUndefined();
    expect(byKind("Secret").metadata.name).toBe("gatehouse");
  });

  it("limit the server's memory above what node's heap flags let V8 hold, and request no more than the limit", () => {
    const { resources } = byKind("Deployment").spec.template.spec.containers[0];
    const mebibytes = (quantity: string) => {
      const [, amount, unit] = /^(\d+)(Mi|Gi)$/.exec(quantity) ?? [];
      if (amount === undefined) throw new Error(`unexpected memory quantity ${quantity}`);
      return Number(amount) * (unit === "Gi" ? 1024 : 1);
    };
    const { nodeFlags } = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { config: { nodeFlags: string } }).config;
    const flag = (name: string) => Number(new RegExp(`--${name}=(\\d+)`).exec(nodeFlags)![1]);
    // V8's young generation is three semi-spaces (two, plus as much for large new objects).
    const heapCap = flag("max-old-space-size") + 3 * flag("max-semi-space-size");
    expect(mebibytes(resources.limits.memory)).toBeGreaterThan(heapCap);
    expect(mebibytes(resources.requests.memory)).toBeLessThanOrEqual(mebibytes(resources.limits.memory));
  });

  it("migrate with a Job of the same image, Secret and locked-down securityContext", () => {
    const job = byKind("Job");
    const pod = job.spec.template.spec;
    const [container] = pod.containers;
    const server = byKind("Deployment").spec.template.spec.containers[0];
    expect(container.image).toBe(server.image);
    expect(container.envFrom).toEqual(server.envFrom);
    expect(container.command).toEqual(compose.services.migrate.command);
    expect(pod.restartPolicy).toBe("Never");
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it("select the server's pods from the Service and the PodDisruptionBudget", () => {
    const labels = byKind("Deployment").spec.template.metadata.labels as Record<string, string>;
    expect(byKind("Deployment").spec.selector.matchLabels).toEqual(labels);
    expect(byKind("Service").spec.selector).toEqual(labels);
    expect(byKind("Service").spec.ports[0].targetPort).toBe("http");
    expect(byKind("PodDisruptionBudget").spec.selector.matchLabels).toEqual(labels);
    expect(byKind("PodDisruptionBudget").spec.maxUnavailable).toBe(1);
  });
});

describe("compose.yaml", () => {
  it("runs PostgreSQL and Redis, and the app only after a one-shot migration succeeded", () => {
    const { postgres, redis, migrate, app } = compose.services;
    expect(postgres.image).toMatch(/^postgres:/);
    expect(redis.image).toMatch(/^redis:/);
    expect(postgres.healthcheck.test).toContain("pg_isready");
    expect(migrate.depends_on).toEqual({ postgres: { condition: "service_healthy" } });
    expect(migrate.restart).toBe("no");
    expect(app.depends_on.migrate).toEqual({ condition: "service_completed_successfully" });
    expect(app.depends_on.redis).toEqual({ condition: "service_healthy" });
    expect(app.image).toBe(migrate.image);
    expect(app.environment.DATABASE_URL).toMatch(/@postgres:5432\//);
    expect(app.environment.REDIS_URL).toBe("redis://redis:6379");
    expect(app.read_only).toBe(true);
    // The JWT secret is demanded from the environment, never written here.
    expect(app.environment.JWT_SECRET).toMatch(/^\$\{JWT_SECRET:\?/);
    expect(app.environment.ENCRYPTION_KEY).toMatch(/^\$\{ENCRYPTION_KEY:\?/);
  });
});

/** The instructions of one stage of the Dockerfile (continuation lines joined). */
function stage(name: string): { instruction: string; args: string }[] {
  const lines = dockerfile.replace(/\\\n\s*/g, " ").split("\n").filter((l) => l.trim() !== "" && !l.trimStart().startsWith("#"));
  const stages: Record<string, { instruction: string; args: string }[]> = {};
  let current: { instruction: string; args: string }[] | undefined;
  for (const line of lines) {
    const [, instruction, args] = /^\s*(\S+)\s+(.*)$/.exec(line)!;
    if (instruction!.toUpperCase() === "FROM") stages[/ AS (\S+)$/i.exec(args!)![1]!] = current = [];
    current?.push({ instruction: instruction!.toUpperCase(), args: args!.trim() });
  }
  return stages[name]!;
}

describe("Dockerfile", () => {
  const runtime = stage("runtime");

  it("passes the Dockerfile linter", () => {
    expect(lintDockerfile(dockerfile).map((d) => `line ${d.range.start.line + 1}: ${d.message}`)).toEqual([]);
    // The linter is not a formality: a broken file gets diagnostics.
    expect(lintDockerfile("FROM node\nEXPOSE port\nMAINTAINER someone\n").length).toBeGreaterThan(0);
  });

  it("builds in one stage and runs as the non-root node user in another, with a health check on /readyz", () => {
    expect(stage("build")).toBeDefined();
    expect(runtime.filter((i) => i.instruction === "USER").map((i) => i.args)).toEqual(["node"]);
    expect(runtime.find((i) => i.instruction === "HEALTHCHECK")!.args).toContain("/readyz");
    // The runtime stage only copies from the build stage: nothing from the build context.
    for (const copy of runtime.filter((i) => i.instruction === "COPY")) expect(copy.args).toMatch(/^--from=build /);
    expect(runtime.some((i) => i.instruction === "RUN")).toBe(false);
  });

  it("runs the build with the node flags and environment of npm start", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { config: { nodeFlags: string; nodeEnv: string } };
    expect(cmd().slice(1, -1)).toEqual(pkg.config.nodeFlags.split(" "));
    expect(cmd().at(-1)).toBe("dist/app/server/main.js");
    for (const pair of pkg.config.nodeEnv.split(" ")) expect(Object.entries(imageEnv()).map(([k, v]) => `${k}=${v}`)).toContain(pair);
  });

  function cmd(): string[] {
    return JSON.parse(runtime.filter((i) => i.instruction === "CMD").at(-1)!.args) as string[];
  }

  function imageEnv(): Record<string, string> {
    const env: Record<string, string> = {};
    for (const { args } of runtime.filter((i) => i.instruction === "ENV")) {
      for (const [, key, value] of args.matchAll(/(\w+)=(\S+)/g)) env[key!] = value!;
    }
    return env;
  }

  function healthcheck(): string[] {
    const args = runtime.find((i) => i.instruction === "HEALTHCHECK")!.args;
    return JSON.parse(/CMD (\[.*\])$/.exec(args)![1]!) as string[];
  }

  /**
   * Lays out the runtime stage's files in `dir` from its `COPY --from=build`
   * lines: each source of the build stage is produced here the way the build
   * stage makes it (node_modules: the lock file's production packages only).
   */
  function buildProductionFileSet(dir: string): string[] {
    const producers: Record<string, (to: string) => void> = {
      "/app/package.json": (to) => cpSync(join(ROOT, "package.json"), to),
      "/app/prisma/migrations": (to) => cpSync(join(ROOT, "prisma/migrations"), to, { recursive: true }),
      // global-setup ran `npm run build`, the build stage's command.
      "/app/dist/app": (to) => cpSync(join(ROOT, "dist/app"), to, { recursive: true }),
      "/app/node_modules": (to) => copyProductionModules(to),
    };
    const copied: string[] = [];
    for (const { args } of runtime.filter((i) => i.instruction === "COPY")) {
      const [, source, target] = /^--from=build (\S+) (\S+)$/.exec(args)!;
      const produce = producers[source!];
      expect(produce, `no way to produce ${source} here: teach tests/deploy.test.ts how the build stage makes it`).toBeDefined();
      produce!(join(dir, target!.replace(/^\.\//, "")));
      copied.push(source!);
    }
    return copied;
  }

  /** `npm prune --omit=dev`: every package of the lock file that is not a development dependency. */
  function copyProductionModules(to: string): void {
    const lock = JSON.parse(readFileSync(join(ROOT, "package-lock.json"), "utf8")) as { packages: Record<string, { dev?: boolean }> };
    mkdirSync(to, { recursive: true });
    for (const [path, entry] of Object.entries(lock.packages)) {
      // Top-level packages; nested node_modules travel with their parent.
      if (!/^node_modules\/(@[^/]+\/)?[^/]+$/.test(path) || entry.dev === true) continue;
      const from = join(ROOT, path);
      if (existsSync(from)) linkTree(from, join(to, path.slice("node_modules/".length)));
    }
  }

  /** Copies a folder as hard links (hundreds of MB of packages in a second), or as copies across file systems. */
  function linkTree(from: string, to: string): void {
    mkdirSync(to, { recursive: true });
    for (const entry of readdirSync(from, { withFileTypes: true })) {
      const source = join(from, entry.name);
      const target = join(to, entry.name);
      if (entry.isDirectory()) linkTree(source, target);
      else if (entry.isSymbolicLink()) symlinkSync(readlinkSync(source), target);
      else {
        try {
          linkSync(source, target);
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "EXDEV") throw error;
          copyFileSync(source, target);
        }
      }
    }
  }

  it("starts from the production file set with the image's CMD, migrated by the migration command, ready by its HEALTHCHECK", async () => {
    const image = mkdtempSync(join(tmpdir(), "gatehouse-image-"));
    afterAll(() => rmSync(image, { recursive: true, force: true }));
    expect(buildProductionFileSet(image).sort()).toEqual(["/app/dist/app", "/app/node_modules", "/app/package.json", "/app/prisma/migrations"]);
    expect(existsSync(join(image, "node_modules/vitest")), "development dependencies left out").toBe(false);
    expect(existsSync(join(image, "node_modules/prom-client")), "production dependencies present").toBe(true);
    expect(existsSync(join(image, "server")), "no TypeScript sources").toBe(false);

    let databaseUrl: string | undefined;
    if (onPostgres) {
      // An empty database, so that the migration command has everything to do.
      const name = `${inject("runPrefix")}_image_${randomBytes(3).toString("hex")}`;
      await createDatabase(process.env.TEST_DATABASE_URL!, name);
      databaseUrl = databaseUrlFor(process.env.TEST_DATABASE_URL!, name);
    }
    // The healthcheck reads PORT, so the port is chosen here: one the system just handed out.
    const port = await freePort();
    const env = {
      PATH: process.env.PATH ?? "",
      ...imageEnv(),
      HOST: "127.0.0.1",
      PORT: String(port),
      DATA_DIR: join(image, "data"),
      JWT_SECRET: randomBytes(48).toString("base64"),
      // Production refuses a non-https or localhost APP_URL (docs/security.md).
      APP_URL: "https://app.example.com",
      // Production needs it while REFRESH_REUSE_GRACE is on (the default).
      ENCRYPTION_KEY: randomBytes(32).toString("base64"),
      LOG_LEVEL: "info",
      ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    };
    const node = (args: string[]) => (args[0] === "node" ? [process.execPath, ...args.slice(1)] : args);

    const [migrateBin, ...migrateArgs] = node(compose.services.migrate.command as string[]);
    const migrated = spawnSync(migrateBin!, migrateArgs, { cwd: image, env, encoding: "utf8", timeout: 60_000 });
    expect(migrated.status, migrated.stdout + migrated.stderr).toBe(0);
    expect(migrated.stdout).toMatch(/applying migration/i);

    const [bin, ...args] = node(cmd());
    const server = spawn(bin!, args, { cwd: image, env, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    server.stdout.on("data", (c: Buffer) => (output += c.toString()));
    server.stderr.on("data", (c: Buffer) => (output += c.toString()));
    const exited = new Promise<number | null>((resolve) => server.once("exit", resolve));
    try {
      const [checkBin, ...checkArgs] = node(healthcheck());
      let healthy = false;
      for (let attempt = 0; attempt < 120 && !healthy && server.exitCode === null; attempt++) {
        healthy = spawnSync(checkBin!, checkArgs, { env, timeout: 5_000 }).status === 0;
        if (!healthy) await new Promise((r) => setTimeout(r, 250));
      }
      expect(healthy, output).toBe(true);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toEqual({ status: "ok" });
      expect(output).toMatch(onPostgres ? /"database":"PostgreSQL / : /"database":"PGlite /);
      expect(output).not.toMatch(/applying migration/i);
    } finally {
      server.kill("SIGTERM");
    }
    expect(await exited, output).toBe(0);
  }, 120_000);
});
