/** The end of a run: the table on stdout, bench/results.json and bench/results.svg. */
import { writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { CORES, DURATION, loadBefore, progress, started, type Row } from "./context.ts";
import { ROOT } from "./processes.ts";
import { renderChart, type Bar } from "./svg.ts";

export function report(rows: Row[], results: Record<string, unknown>): void {
  const machine = {
    cpu: `${cpus()[0]?.model ?? "?"} x ${CORES}`,
    memoryGb: Math.round(totalmem() / 1024 ** 3),
    node: process.version,
    loadAverageBefore: loadBefore,
    loadAverageAfter: loadavg()[0],
  };
  const seconds = (performance.now() - started) / 1000;
  printTable(rows, machine, seconds);
  const bars: Bar[] = rows
    .filter((r) => r.of !== "itself")
    .map((r) => ({ label: r.figure, ratio: r.ratio, of: r.of, target: r.target, met: r.met }));
  writeFileSync(join(ROOT, "bench/results.json"), `${JSON.stringify({ date: new Date().toISOString(), durationSeconds: DURATION, seconds, machine, rows, results }, null, 2)}\n`);
  writeFileSync(join(ROOT, "bench/results.svg"), renderChart(bars, `Gatehouse bench, ${new Date().toISOString().slice(0, 10)}: ${machine.cpu}, Node ${machine.node}`));
  progress(`done in ${seconds.toFixed(0)} s: bench/results.json, bench/results.svg`);
}

function printTable(rows: Row[], machine: Record<string, unknown>, seconds: number): void {
  const header = ["figure", "value", "ratio", "of", "target"];
  const cells = rows.map((r) => [r.figure, r.value, r.ratio.toFixed(2), r.of, r.target ? `${r.target} ${r.met === undefined ? "" : r.met ? "✓" : "✗"}` : ""]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) => `| ${c.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  console.log(`\nGatehouse bench: ${machine.cpu}, ${machine.memoryGb} GB, Node ${machine.node}; ${DURATION} s per measurement, ${seconds.toFixed(0)} s in all; load average ${(machine.loadAverageBefore as number).toFixed(2)} before, ${(machine.loadAverageAfter as number).toFixed(2)} after\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const c of cells) console.log(line(c));
}
