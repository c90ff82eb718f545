/**
 * LISTEN on PostgreSQL for one channel, on a connection of its own (a pooled
 * one would be handed to queries). A lost connection is re-opened after a
 * second; notifications sent meanwhile are missed, which is why live events
 * are also kept in a table for resumption (server/events/).
 */
import pg from "pg";
import type { Logger } from "../log.ts";

const RECONNECT_MS = 1000;

/** Calls `onPayload` for each NOTIFY on `channel` until the returned function is called. */
export async function listenPostgres(url: string, channel: string, onPayload: (payload: string) => void, log: Logger): Promise<() => Promise<void>> {
  let closed = false;
  let client: pg.Client | null = null;
  let retry: NodeJS.Timeout | undefined;

  const connect = async (): Promise<void> => {
    const next = new pg.Client({ connectionString: url, keepAlive: true });
    next.on("notification", (message) => {
      if (message.channel === channel && message.payload !== undefined) onPayload(message.payload);
    });
    next.on("error", (error) => {
      log.warn({ err: error.message, channel }, "LISTEN connection lost; reconnecting");
      void next.end().catch(() => undefined);
      if (client === next) client = null;
      scheduleReconnect();
    });
    await next.connect();
    // A channel is an identifier; ours are fixed names, quoted anyway.
    await next.query(`LISTEN "${channel.replace(/"/g, '""')}"`);
    if (closed) {
      await next.end();
      return;
    }
    client = next;
  };
  const scheduleReconnect = () => {
    if (closed || retry) return;
    retry = setTimeout(() => {
      retry = undefined;
      connect().catch(() => scheduleReconnect());
    }, RECONNECT_MS);
    retry.unref();
  };

  await connect();
  return async () => {
    closed = true;
    clearTimeout(retry);
    await client?.end().catch(() => undefined);
  };
}
