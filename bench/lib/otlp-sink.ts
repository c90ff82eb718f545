/** An OTLP/HTTP receiver that reads and drops what it is sent. */
export async function otlpSink(): Promise<{ url: string; requests(): number; close(): void }> {
  const { createServer } = await import("node:http");
  let requests = 0;
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      requests++;
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  return { url: `http://127.0.0.1:${port}`, requests: () => requests, close: () => server.close() };
}
