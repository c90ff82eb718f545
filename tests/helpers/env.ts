/** What parseEnv refuses in a set of variables: each problem it names, or none. */
import { EnvError, parseEnv } from "../../server/env.ts";

export function envProblems(source: Record<string, string>): string[] {
  try {
    parseEnv(source);
  } catch (error) {
    if (error instanceof EnvError) return error.problems;
    throw error;
  }
  return [];
}
