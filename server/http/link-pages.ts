/**
 * `GET /verify-email`, `/reset-password`, `/magic-link` and `/email-code`: the
 * pages the links in Gatehouse's mail open. A real deployment points APP_URL
 * at its own frontend, which serves these paths; in development APP_URL
 * defaults to Gatehouse itself (server/env.ts), and these small pages do the
 * job there: each gathers its procedure's input (the token from its own URL,
 * or what is typed on the page) and, on a click (mail scanners that prefetch
 * links must not spend the token), posts it to the procedure.
 *
 * Nothing from the URL enters the HTML: the page's script reads
 * `location.search` (the token, and `/email-code`'s optional `?email=`, which
 * only prefills the field). Locked down: a per-response script nonce, no other
 * source, no framing, no referrer (the URL carries the token), never cached.
 */
import { randomBytes } from "node:crypto";
import type { Route } from "./route.ts";
import { allowMethods, sendContent } from "./wire.ts";

/** An input typed on the page: its label, and its `<input>` attributes besides `id` (fixed text). */
interface Field {
  label: string;
  attributes: string;
  /** Starts with the URL's `?<name>=` when present, set by the script (never written into the HTML). */
  prefill?: boolean;
}

interface LinkPage {
  title: string;
  /** What the page says before the click. */
  intro: string;
  button: string;
  procedure: string;
  /** The procedure's input, by name: `"url"` is read from the URL's `?<name>=` (required), a Field is typed. */
  input: Record<string, "url" | Field>;
  /** What the page says on success. */
  done: string;
}

const tokenFromUrl = { token: "url" } as const;

const PAGES: Record<string, LinkPage> = {
  "/verify-email": {
    title: "Verify your email",
    intro: "Confirm the email address of your Gatehouse account.",
    button: "Verify my email",
    procedure: "auth.verifyEmail",
    input: tokenFromUrl,
    done: "Your email address is verified. You can close this page.",
  },
  "/reset-password": {
    title: "Choose a new password",
    intro: "Choose a new password for your Gatehouse account (8 to 128 characters). Every session of the account is signed out.",
    button: "Set the new password",
    procedure: "auth.resetPassword",
    input: {
      ...tokenFromUrl,
      newPassword: { label: "New password", attributes: 'type="password" autocomplete="new-password" required minlength="8" maxlength="128"' },
    },
    done: "Your password has been changed. Sign in with the new one.",
  },
  "/magic-link": {
    title: "Sign in",
    intro: "Sign in to Gatehouse with the link from your mail.",
    button: "Sign me in",
    procedure: "auth.consumeMagicLink",
    input: tokenFromUrl,
    done: "You are signed in. (Your app's own page would keep this session; this one only shows that the link works.)",
  },
  "/email-code": {
    title: "Sign in with a code",
    intro: "Type the six-digit code from your mail (valid for 10 minutes).",
    button: "Sign me in",
    procedure: "auth.verifyEmailCode",
    input: {
      email: { label: "Email", attributes: 'type="email" autocomplete="email" required', prefill: true },
      code: { label: "Code", attributes: 'inputmode="numeric" autocomplete="one-time-code" required pattern="[0-9]{6}" maxlength="6"' },
    },
    done: "You are signed in. (Your app's own page would keep this session; this one only shows that the code works.)",
  },
};

/** What a sign-in page says when the account answered with a second-factor challenge (auth.verifyMfa finishes it). */
const MFA_STEP = "Half signed in: your account asks for a second factor, which your app asks for next (a code from your authenticator, or a recovery code).";

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function render(page: LinkPage, nonce: string): string {
  const fields = Object.entries(page.input).filter((entry): entry is [string, Field] => entry[1] !== "url");
  // The script only needs where each value comes from: "url", "typed", or "prefill" (typed, and filled from the URL if there).
  const sources = Object.fromEntries(Object.entries(page.input).map(([name, from]) => [name, from === "url" ? "url" : from.prefill ? "prefill" : "typed"]));
  const config = JSON.stringify({ procedure: page.procedure, input: sources, done: page.done }).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(page.title)} · Gatehouse</title>
<style nonce="${nonce}">body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}
input,button{font:inherit;padding:.4rem .6rem;margin:.25rem 0}#result{margin-top:1rem}.error{color:#a00}</style></head>
<body><h1>${escapeHtml(page.title)}</h1><p>${escapeHtml(page.intro)}</p>
<form id="form">${fields.map(([name, field]) => `<label>${escapeHtml(field.label)} <input id="${name}" ${field.attributes}></label><br>`).join("")}
<button id="submit" type="submit">${escapeHtml(page.button)}</button></form>
<p id="result" role="status"></p>
<script nonce="${nonce}">
const page = ${config};
const MFA_STEP = ${JSON.stringify(MFA_STEP)};
const query = new URLSearchParams(location.search);
const form = document.getElementById("form");
const result = document.getElementById("result");
const show = (text, error) => { result.textContent = text; result.className = error ? "error" : ""; };
for (const [name, from] of Object.entries(page.input)) {
  if (from === "prefill") document.getElementById(name).value = query.get(name) ?? "";
  if (from === "url" && !query.get(name)) { show("This link has no " + name + ": open the link from the mail as it is.", true); form.hidden = true; }
}
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const input = {};
  for (const [name, from] of Object.entries(page.input)) input[name] = from === "url" ? query.get(name) : document.getElementById(name).value;
  document.getElementById("submit").disabled = true;
  try {
    const res = await fetch("/trpc/" + page.procedure, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ json: input }) });
    const body = await res.json();
    if (res.ok) {
      // A sign-in of an account with a second factor answers a challenge, not a session.
      const challenged = body.result && body.result.data && body.result.data.json && body.result.data.json.mfaRequired === true;
      show(challenged ? MFA_STEP : page.done, false);
      form.hidden = true;
      return;
    }
    const error = body.error.json;
    show(error.message + " (" + error.data.appCode + ")", true);
  } catch (err) {
    show("Gatehouse could not be reached: " + err, true);
  }
  document.getElementById("submit").disabled = false;
});
</script></body></html>
`;
}

/** The routes of the link pages. */
export function createLinkPagesRoute(): Route {
  return (req, res, path) => {
    const page = Object.hasOwn(PAGES, path) ? PAGES[path] : undefined;
    if (page === undefined) return false;
    if (!allowMethods(req, res, ["GET", "HEAD"])) return true;
    const nonce = randomBytes(16).toString("base64");
    sendContent(
      req,
      res,
      {
        "content-type": "text/html; charset=utf-8",
        "content-security-policy": `default-src 'none'; script-src 'nonce-${nonce}'; style-src 'nonce-${nonce}'; connect-src 'self'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'`,
        "referrer-policy": "no-referrer",
        "cache-control": "no-store",
        "x-content-type-options": "nosniff",
        "x-frame-options": "DENY",
      },
      render(page, nonce),
    );
    return true;
  };
}
