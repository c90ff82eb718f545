/**
 * A vitest reporter that lists, at the end of a run, every skipped test and
 * why: the reason is in the name of the test or of its describe block
 * (`… (skipped: needs PostgreSQL, set TEST_DATABASE_URL)`), which the default
 * reporter does not print for skipped tests. Listed in vitest.config.ts.
 */
import { relative } from "node:path";
import type { Reporter, TestCase, TestModule } from "vitest/node";

/** The name carrying the reason: the test's own, or the nearest describe block's. */
function reasonOf(test: TestCase): string {
  if (test.name.includes("(skipped")) return test.name;
  for (let parent = test.parent; parent.type === "suite"; parent = parent.parent) {
    if (parent.name.includes("(skipped")) return parent.name;
  }
  return `${test.fullName} (skipped: no reason given in its name)`;
}

export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const lines: string[] = [];
    for (const module of testModules) {
      const counts = new Map<string, number>();
      for (const test of module.children.allTests("skipped")) counts.set(reasonOf(test), (counts.get(reasonOf(test)) ?? 0) + 1);
      const file = relative(process.cwd(), module.moduleId);
      for (const [reason, count] of counts) lines.push(`  ${file}: ${count} ${count === 1 ? "test" : "tests"}: ${reason}`);
    }
    if (lines.length > 0) process.stdout.write(`\nSkipped tests, and why:\n${lines.join("\n")}\n`);
  }
}
