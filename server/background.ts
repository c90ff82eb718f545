/**
 * Work that must not hold up a response (mail hand-off, the token write behind
 * `auth.requestPasswordReset`), run in this process and tracked so that a
 * graceful shutdown can wait for it before the database closes.
 */
import type { Logger } from "./log.ts";

/** How long `drain()` waits by default before giving up on stragglers. */
const DEFAULT_DRAIN_TIMEOUT_MS = 15_000;

/** Runs fire-and-forget tasks, logs their failures, and lets shutdown await them. */
export class BackgroundTasks {
  readonly #log: Logger;
  readonly #pending = new Set<Promise<void>>();

  constructor(log: Logger) {
    this.#log = log;
  }

  /**
   * Starts `work` without waiting for it. A failure is logged with the request
   * id and never reaches the caller; only the error's message and code are
   * logged, so a message body (and its token) cannot end up in the log.
   */
  run(task: string, requestId: string | null, work: () => Promise<void>): void {
    const promise = Promise.resolve()
      .then(work)
      .catch((error: unknown) => {
        const { message, code } = (error ?? {}) as { message?: unknown; code?: unknown };
        this.#log.error({ task, requestId, err: { message: String(message ?? error), code } }, "background task failed");
      })
      .finally(() => this.#pending.delete(promise));
    this.#pending.add(promise);
  }

  /** Tasks started and not yet finished. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Waits until every task started so far (and any they start) has finished, or the timeout passes. */
  async drain(timeoutMs = DEFAULT_DRAIN_TIMEOUT_MS): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.#pending.size > 0) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        this.#log.warn({ pending: this.#pending.size }, "background tasks still running at shutdown");
        return;
      }
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, remaining);
        timer.unref();
      });
      await Promise.race([Promise.allSettled([...this.#pending]), timeout]);
      clearTimeout(timer);
    }
  }
}
