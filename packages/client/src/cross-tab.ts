/**
 * Refresh coordinated between the tabs of one origin.
 *
 * A refresh token is single use, so two tabs that refresh the same session at
 * the same moment would rotate it twice (the server's grace window makes the
 * second answer the same successor, but only for a few seconds, and not at
 * all with REFRESH_REUSE_GRACE=0). In a browser, the client therefore:
 *
 * - refreshes under a Web Lock (`navigator.locks`), so one tab at a time
 *   rotates; a tab that waited finds the new pair already in its store and
 *   does not rotate again;
 * - broadcasts each new pair on a `BroadcastChannel`, where a tab holding
 *   the retired token takes it into its store (tabs holding another session
 *   ignore it);
 * - before letting the lock go, takes a second Web Lock named after the
 *   retired token's id (never a secret) and holds it for a minute, so that a
 *   tab granted the lock before the broadcast has reached it learns, from the
 *   lock manager's own state (`navigator.locks.query()`), to wait for the pair
 *   instead of rotating again. The lock manager is one service per origin, so
 *   this marker is seen in order with the lock itself; `localStorage` is not
 *   (each renderer reads its own copy, updated later).
 *
 * A store that persists (`localStorage`, or an app's own) is shared by the
 * tabs already and sees one rotation. Without Web Locks or BroadcastChannel
 * (Node, old browsers) each missing piece is simply skipped.
 */
import type { TokenStore, Tokens } from "./token-store.ts";

/** Renews a stale pair: rotates it, unless another tab already did. */
export interface RefreshCoordinator {
  renew(stale: Tokens, rotate: (refreshToken: string) => Promise<Tokens>): Promise<Tokens>;
}

/** Refresh in this page only. */
export const localRefresh: RefreshCoordinator = {
  renew: (stale, rotate) => rotate(stale.refreshToken),
};

/** How long rotations are remembered, to answer late tabs. */
const REMEMBER_MS = 60_000;
/** How long a tab that knows another rotated waits for its broadcast before rotating itself. */
const BROADCAST_WAIT_MS = 3_000;

interface RotatedMessage {
  type: "gatehouse:rotated";
  /** The id (the part before the dot) of the retired refresh token. */
  previous: string;
  tokens: Tokens;
}

const idOf = (refreshToken: string) => refreshToken.split(".")[0] ?? "";

function isRotated(data: unknown): data is RotatedMessage {
  const m = data as Partial<RotatedMessage> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    m.type === "gatehouse:rotated" &&
    typeof m.previous === "string" &&
    typeof m.tokens?.accessToken === "string" &&
    typeof m.tokens?.refreshToken === "string"
  );
}

interface LockManagerLike {
  request<T>(name: string, callback: () => Promise<T>): Promise<T>;
  query(): Promise<{ held?: Array<{ name?: string }> }>;
}

function webLocks(): LockManagerLike | null {
  const locks = (globalThis as { navigator?: { locks?: LockManagerLike } }).navigator?.locks;
  return locks && typeof locks.request === "function" && typeof locks.query === "function" ? locks : null;
}

/**
 * A coordinator for the tabs of this origin that share `name` (one per
 * Gatehouse endpoint); `tokens` is this tab's store, updated when another tab
 * rotates the pair it holds.
 */
export function crossTabRefresh(name: string, tokens: TokenStore): RefreshCoordinator {
  const locks = webLocks();
  const channel = typeof BroadcastChannel === "function" ? new BroadcastChannel(name) : null;
  const markerOf = (previous: string) => `${name}:rotated:${previous}`;
  const rotations = new Map<string, Tokens>();
  const waiters = new Map<string, Array<(tokens: Tokens) => void>>();

  function remember(previous: string, next: Tokens): void {
    rotations.set(previous, next);
    setTimeout(() => rotations.delete(previous), REMEMBER_MS);
    for (const wake of waiters.get(previous) ?? []) wake(next);
    waiters.delete(previous);
  }

  channel?.addEventListener("message", (event: Event) => {
    const data = (event as Event & { data?: unknown }).data;
    if (!isRotated(data)) return;
    const { previous, tokens: next } = data;
    remember(previous, next);
    const held = tokens.get();
    if (held !== null && idOf(held.refreshToken) === previous) tokens.set(next);
  });

  function broadcastFor(previous: string): Promise<Tokens | null> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(null), BROADCAST_WAIT_MS);
      const list = waiters.get(previous) ?? [];
      list.push((next) => {
        clearTimeout(timer);
        resolve(next);
      });
      waiters.set(previous, list);
    });
  }

  /** Whether another tab holds the marker of `previous`'s rotation. */
  async function rotatedElsewhere(previous: string): Promise<boolean> {
    const { held = [] } = (await locks?.query()) ?? {};
    return held.some((lock) => lock.name === markerOf(previous));
  }

  /** Takes (and holds for a while) the marker of `previous`'s rotation; resolves once it is granted. */
  function markRotated(previous: string): Promise<void> {
    return new Promise((granted) => {
      if (!locks) return granted();
      void locks.request(markerOf(previous), () => {
        granted();
        return new Promise<void>((release) => setTimeout(release, REMEMBER_MS));
      });
    });
  }

  async function renewExclusively(stale: Tokens, rotate: (refreshToken: string) => Promise<Tokens>): Promise<Tokens> {
    const previous = idOf(stale.refreshToken);
    // Another tab rotated while this one waited: its pair is in the store
    // already (a shared store, or its broadcast), or known from the channel.
    const known = (): Tokens | null => {
      const held = tokens.get();
      if (held !== null && held.refreshToken !== stale.refreshToken) return held;
      return rotations.get(previous) ?? null;
    };
    const before = known();
    if (before) return before;
    if (channel !== null && (await rotatedElsewhere(previous))) {
      // The broadcast may have arrived while the lock manager answered.
      const next = known() ?? (await broadcastFor(previous));
      if (next !== null) return next;
    }
    const next = await rotate(stale.refreshToken);
    remember(previous, next);
    if (channel !== null) {
      // The broadcast goes first: a tab that sees the marker can count on it.
      channel.postMessage({ type: "gatehouse:rotated", previous, tokens: next } satisfies RotatedMessage);
      await markRotated(previous);
    }
    return next;
  }

  return {
    renew: (stale, rotate) => (locks ? locks.request(name, () => renewExclusively(stale, rotate)) : renewExclusively(stale, rotate)),
  };
}
