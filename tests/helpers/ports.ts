/** Ports for test servers that must know their own address before they listen. */
import { createServer } from "node:net";

/** A TCP port that was free a moment ago (for a server whose own URL must be configured before it listens). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.on("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}
