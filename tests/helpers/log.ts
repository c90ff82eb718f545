/** A logger whose JSON lines the test can read back. */
import { Writable } from "node:stream";
import { pino, type Logger } from "pino";

export interface CapturedLog {
  log: Logger;
  /** Every line written so far, parsed. */
  lines(): Array<Record<string, unknown> & { msg?: string; level: number }>;
}

/** A pino logger at `level` writing into memory. */
export function captureLog(level = "info"): CapturedLog {
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(...chunk.toString().split("\n").filter(Boolean));
      done();
    },
  });
  return { log: pino({ level }, sink), lines: () => lines.map((line) => JSON.parse(line)) };
}
