/**
 * A browser as far as redirects and cookies go: `fetch` with manual
 * redirects and a cookie jar per host, so a test walks an OAuth redirect
 * chain hop by hop (and can stop, tamper with or replay any hop).
 */

export class CookieBrowser {
  readonly #jar = new Map<string, Map<string, string>>();

  #cookieHeader(url: URL): string {
    return [...(this.#jar.get(url.host) ?? new Map<string, string>())].map(([name, value]) => `${name}=${value}`).join("; ");
  }

  #store(url: URL, response: Response): void {
    const cookies = this.#jar.get(url.host) ?? new Map<string, string>();
    for (const line of response.headers.getSetCookie()) {
      const [pair, ...attributes] = line.split(";");
      const eq = pair!.indexOf("=");
      const name = pair!.slice(0, eq).trim();
      const expired = attributes.some((a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=Thu, 01 Jan 1970/i.test(a));
      if (expired) cookies.delete(name);
      else cookies.set(name, pair!.slice(eq + 1).trim());
    }
    this.#jar.set(url.host, cookies);
  }

  /** The cookies this browser holds for a host. */
  cookies(host: string): Map<string, string> {
    return new Map(this.#jar.get(host) ?? []);
  }

  async request(target: string | URL, init: { method?: string; form?: Record<string, string> } = {}): Promise<Response> {
    const url = new URL(target);
    const headers: Record<string, string> = { cookie: this.#cookieHeader(url), "user-agent": "cookie-browser" };
    if (init.form) headers["content-type"] = "application/x-www-form-urlencoded";
    const response = await fetch(url, {
      method: init.method ?? (init.form ? "POST" : "GET"),
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: "manual",
    });
    this.#store(url, response);
    return response;
  }
}

/** The absolute target of a redirect answer; throws when the answer is not a redirect. */
export function locationOf(response: Response, base: string | URL): URL {
  const location = response.headers.get("location");
  if (response.status < 300 || response.status > 399 || location === null) {
    throw new Error(`expected a redirect, got ${response.status}`);
  }
  return new URL(location, base);
}

