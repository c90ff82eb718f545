/** Reading a V8 `.cpuprofile`: where the self time went, by function and by package. */
import { readFileSync } from "node:fs";

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  startTime: number;
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  name: string;
  /** Share of all samples, 0..1. */
  share: number;
}

function packageOf(url: string): string {
  if (url === "") return "(native / V8)";
  if (url.startsWith("node:")) return "node:*";
  const nm = url.lastIndexOf("node_modules/");
  if (nm >= 0) {
    const rest = url.slice(nm + "node_modules/".length).split("/");
    return rest[0]!.startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  const root = url.indexOf("/server/") >= 0 ? url.slice(url.indexOf("/server/") + 1) : url.slice(url.lastIndexOf("/") + 1);
  return root.includes("generated/prisma") ? "server/generated/prisma" : root;
}

/** Top self-time entries by function and by package, excluding idle time. */
export function summarise(
  file: string,
  top = 25,
  /** Leave out the first milliseconds (start-up: module loading, migrations). */
  skipMs = 0,
): { functions: SelfTime[]; packages: SelfTime[]; inclusive: SelfTime[]; idle: number } {
  const profile = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const hits = new Map<number, number>();
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= skipMs * 1000) hits.set(id, (hits.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  let total = 0;
  let idle = 0;
  const fn = new Map<string, number>();
  const pkg = new Map<string, number>();
  for (const [id, time] of hits) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    total += time;
    if (functionName === "(idle)") {
      idle += time;
      continue;
    }
    const where = url ? `${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(server|routers|bench)\//, "$1/")}:${lineNumber + 1}` : "";
    const key = `${functionName || "(anonymous)"} ${where}`.trim();
    fn.set(key, (fn.get(key) ?? 0) + time);
    const p = functionName === "(garbage collector)" ? "(gc)" : functionName === "(program)" ? "(program)" : packageOf(url);
    pkg.set(p, (pkg.get(p) ?? 0) + time);
  }
  const busy = total - idle;
  // Inclusive time: each sample counts once for every distinct function on its stack.
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const incl = new Map<string, number>();
  for (const [id, time] of hits) {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const { functionName, url, lineNumber } = byId.get(cur)!.callFrame;
      if (functionName === "(idle)" || functionName === "(root)") continue;
      const key = `${functionName || "(anonymous)"} ${url.replace(/^.*node_modules\//, "").replace(/^file:\/\/.*?\/(server|routers|bench)\//, "$1/")}:${lineNumber + 1}`;
      if (!seen.has(key)) {
        seen.add(key);
        incl.set(key, (incl.get(key) ?? 0) + time);
      }
    }
  }
  const rank = (m: Map<string, number>) =>
    [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([name, t]) => ({ name, share: t / busy }));
  return { functions: rank(fn), packages: rank(pkg), inclusive: rank(incl), idle: idle / total };
}
