/**
 * A TCP proxy the test controls, to cut a service off and bring it back:
 * `stop()` closes the listener and destroys every open connection (clients see
 * resets, new connections are refused); `start()` listens on the same port again.
 */
import { createServer, connect, type Server, type Socket } from "node:net";

export interface TcpProxy {
  /** The port the proxy listens on (stable across stop/start). */
  readonly port: number;
  /** Listens again on the same port. */
  start(): Promise<void>;
  /** Refuses new connections and destroys the open ones. */
  stop(): Promise<void>;
  /**
   * Destroys the open connections and from then on accepts new ones but
   * never answers (a host that went silent); `start()` forwards again.
   */
  blackhole(): Promise<void>;
  /** Stops for good. */
  close(): Promise<void>;
}

/** A proxy from 127.0.0.1:<ephemeral> to `target`, already listening. */
export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let silent = false;

  const listen = () =>
    new Promise<void>((resolve, reject) => {
      const s = createServer((client) => {
        if (silent) {
          sockets.add(client);
          client.on("close", () => sockets.delete(client));
          client.on("error", () => client.destroy());
          return;
        }
        const upstream = connect(target.port, target.host);
        for (const socket of [client, upstream]) {
          sockets.add(socket);
          socket.on("close", () => sockets.delete(socket));
          // A reset on one side tears down the other; errors are expected here.
          socket.on("error", () => {
            client.destroy();
            upstream.destroy();
          });
        }
        client.pipe(upstream).pipe(client);
      });
      s.once("error", reject);
      s.listen(port, "127.0.0.1", () => {
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const stop = () =>
    new Promise<void>((resolve) => {
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (server === null) return resolve();
      const s = server;
      server = null;
      s.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return port;
    },
    async start() {
      await stop();
      silent = false;
      await listen();
    },
    stop,
    async blackhole() {
      await stop();
      silent = true;
      await listen();
    },
    close: stop,
  };
}

/** The same PostgreSQL URL, reached through a local port. */
export function throughPort(url: string, port: number): string {
  const u = new URL(url);
  u.hostname = "127.0.0.1";
  u.port = String(port);
  return u.toString();
}
