/**
 * Where the client keeps its token pair. The store is the one piece a browser
 * app replaces (e.g. memory plus an httpOnly-cookie endpoint of its own):
 * anything with `get` and `set` will do.
 */

/** The pair `auth.register`, `auth.login`, `auth.refresh` and `auth.changePassword` return. */
export interface Tokens {
  accessToken: string;
  refreshToken: string;
}

/** Holds the current pair; `set(null)` forgets it. */
export interface TokenStore {
  get(): Tokens | null;
  set(tokens: Tokens | null): void;
}

/**
 * A store that lives as long as the page (or process). Nothing is written to
 * `localStorage`: a token there is readable by any script an XSS injects
 * (OWASP HTML5 Security Cheat Sheet, "Local Storage").
 */
export function memoryTokenStore(initial: Tokens | null = null): TokenStore {
  let current = initial ? { accessToken: initial.accessToken, refreshToken: initial.refreshToken } : null;
  return {
    get: () => current,
    set(tokens) {
      current = tokens ? { accessToken: tokens.accessToken, refreshToken: tokens.refreshToken } : null;
    },
  };
}
