/**
 * A small EventSource over `fetch`, for `httpSubscriptionLink`: unlike the
 * browser's EventSource it sends headers, so the bearer token travels in
 * `Authorization` and never in the URL (where proxies and access logs would
 * keep it). Headers are read again on each reconnection, so a refreshed token
 * is used. It reconnects after `retry` ms with `Last-Event-ID`, and fails for
 * good on an answer that is not an event stream (WHATWG HTML, "Server-sent
 * events", section 9.2).
 */

export interface HeaderEventSourceInit {
  /** Sent with every (re)connection; a function is called each time. */
  headers?: Record<string, string> | (() => Record<string, string>);
  fetch?: typeof globalThis.fetch;
}

const CONNECTING = 0;
const OPEN = 1;
const CLOSED = 2;

/** The subset of the EventSource interface tRPC's subscription link uses. */
export class HeaderEventSource extends EventTarget {
  static readonly CONNECTING = CONNECTING;
  static readonly OPEN = OPEN;
  static readonly CLOSED = CLOSED;
  readonly CONNECTING = CONNECTING;
  readonly OPEN = OPEN;
  readonly CLOSED = CLOSED;
  readonly withCredentials = false;
  readyState: number = CONNECTING;
  #retryMs = 1000;
  #lastEventId = "";
  #abort = new AbortController();

  constructor(
    readonly url: string,
    private readonly init: HeaderEventSourceInit = {},
  ) {
    super();
    void this.#run();
  }

  close(): void {
    this.readyState = CLOSED;
    this.#abort.abort();
  }

  async #run(): Promise<void> {
    while (this.readyState !== CLOSED) {
      try {
        const headers = typeof this.init.headers === "function" ? this.init.headers() : (this.init.headers ?? {});
        const response = await (this.init.fetch ?? fetch)(this.url, {
          headers: { accept: "text/event-stream", ...headers, ...(this.#lastEventId ? { "last-event-id": this.#lastEventId } : {}) },
          signal: this.#abort.signal,
        });
        if (!response.ok || !response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) {
          this.readyState = CLOSED;
          this.dispatchEvent(new Event("error"));
          return;
        }
        this.readyState = OPEN;
        this.dispatchEvent(new Event("open"));
        await this.#read(response.body);
      } catch {
        if (this.readyState === CLOSED) return;
      }
      if (this.readyState === CLOSED) return;
      this.readyState = CONNECTING;
      this.dispatchEvent(new Event("error"));
      await new Promise((resolve) => setTimeout(resolve, this.#retryMs));
    }
  }

  async #read(body: ReadableStream<Uint8Array>): Promise<void> {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    let data: string[] = [];
    let type = "";
    let id: string | undefined;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline: number;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith("\r\n", newline) ? 2 : 1));
        if (line === "") {
          if (id !== undefined) this.#lastEventId = id;
          if (data.length > 0 && this.readyState !== CLOSED) {
            this.dispatchEvent(new MessageEvent(type || "message", { data: data.join("\n"), lastEventId: this.#lastEventId }));
          }
          data = [];
          type = "";
          id = undefined;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") data.push(fieldValue);
        else if (field === "event") type = fieldValue;
        else if (field === "id" && !fieldValue.includes("\0")) id = fieldValue;
        else if (field === "retry" && /^\d+$/.test(fieldValue)) this.#retryMs = Number(fieldValue);
      }
    }
  }
}
