/** The real HTTP server on port 0 for one test file. */
import type { AddressInfo } from "node:net";
import { afterAll } from "vitest";
import { createServer } from "../../server/http/server.ts";
import type { Services } from "../../server/services.ts";

/** Starts the server on an ephemeral port (or the one given); it is closed after the file's tests. */
export async function startTestServer(services: Services, port = 0): Promise<{ url: string }> {
  const server = createServer(services);
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  afterAll(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  const { port: listening } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${listening}` };
}
