/**
 * Live-event fan-out: `subscribers` open `auth.events` streams on one server,
 * then `events` events are emitted straight into the database (the same
 * function the triggers call, so NOTIFY on commit, LISTEN, the hub and the SSE
 * writes are all on the path), and the time until every stream has every
 * event is measured. `memoryOf` reads the server's resident memory before the
 * streams open, once they all are, and after the events reached them all.
 */
import pg from "pg";
import type { memoryOf as MemoryOf } from "./processes.ts";

export interface FanoutResult {
  subscribers: number;
  events: number;
  seconds: number;
  /** Events per second, each delivered to every subscriber. */
  eventsPerSecond: number;
  /** Single deliveries (event x subscriber) per second. */
  deliveriesPerSecond: number;
  /** The server's RSS and peak RSS (bytes) before the streams opened, with all of them open (before any event), and after every event reached every stream. */
  memory: { before: Memory; open: Memory; delivered: Memory };
}

type Memory = ReturnType<typeof MemoryOf>;

function userIdOf(accessToken: string): string {
  return (JSON.parse(Buffer.from(accessToken.split(".")[1]!, "base64url").toString("utf8")) as { sub: string }).sub;
}

export async function measureFanout(
  baseUrl: string,
  databaseUrl: string,
  accessToken: string,
  subscribers: number,
  events: number,
  memoryOf: () => Memory,
): Promise<FanoutResult> {
  const before = memoryOf();
  const controller = new AbortController();
  const counts: Promise<number>[] = [];
  let opened = 0;
  let allOpen!: () => void;
  const open = new Promise<void>((resolve) => (allOpen = resolve));
  const marker = '"type":"email_verified"';
  for (let wave = 0; wave < subscribers; wave += 100) {
    const responses = await Promise.all(
      Array.from({ length: Math.min(100, subscribers - wave) }, () =>
        fetch(`${baseUrl}/trpc/auth.events`, { headers: { accept: "text/event-stream", authorization: `Bearer ${accessToken}` }, signal: controller.signal }),
      ),
    );
    for (const response of responses) {
      counts.push(
        (async () => {
          const reader = response.body!.getReader();
          const decoder = new TextDecoder();
          let seen = 0;
          let tail = "";
          if (++opened === subscribers) allOpen();
          try {
            while (seen < events) {
              const { value, done } = await reader.read();
              if (done) break;
              const text = tail + decoder.decode(value, { stream: true });
              seen += text.split(marker).length - 1;
              tail = text.slice(-marker.length);
            }
          } catch {
            // aborted
          }
          return seen;
        })(),
      );
    }
  }
  await open;
  // The streams are open once their first bytes (the `connected` event) arrived; give the hub a moment.
  await new Promise((r) => setTimeout(r, 500));
  const withStreams = memoryOf();
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const userId = userIdOf(accessToken);
  const started = performance.now();
  try {
    for (let i = 0; i < events; i++) await client.query("SELECT gatehouse_live_event($1, 'email_verified', NULL, now())", [userId]);
    const seen = await Promise.all(counts);
    const seconds = (performance.now() - started) / 1000;
    const delivered = memoryOf();
    const complete = seen.filter((n) => n >= events).length;
    if (complete !== subscribers) throw new Error(`fan-out: only ${complete} of ${subscribers} streams got all ${events} events`);
    return { subscribers, events, seconds, eventsPerSecond: events / seconds, deliveriesPerSecond: (events * subscribers) / seconds, memory: { before, open: withStreams, delivered } };
  } finally {
    controller.abort();
    await client.end();
  }
}
