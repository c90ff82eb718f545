/**
 * The messages the service sends. Each carries one link to the web app
 * (`APP_URL`), with the token URL-encoded in its query (the email code is in
 * the text instead); the HTML body escapes
 * everything that came from a user (OWASP XSS Prevention Cheat Sheet, rule 1),
 * and the only user-chosen text, the name, passes `mailSafeName` first.
 */
import type { MailKind } from "../audit/security-log.ts";
import type { MailMessage, MailRecipient } from "./types.ts";

/** Escapes text for an HTML element body or a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;");
}

/** `${appUrl}${path}?token=<token>`. */
function tokenLink(appUrl: string, path: string, token: string): string {
  return `${appUrl}${path}?token=${encodeURIComponent(token)}`;
}

type Recipient = Pick<MailRecipient, "email" | "name">;

/** Most characters of a user-chosen name that go into a mail. */
export const MAX_MAIL_NAME = 40;

/** A scheme with `//`, a scheme that needs none, `www.`, an address, or `word.tld`: what mail clients turn into links. */
const LINK_LIKE = /[a-z][a-z0-9+.-]*:\/\/|\b(?:mailto|tel|sms|javascript|data|file):|www\.|@|[\p{L}\p{N}_-]\.\p{L}{2,}/iu;

/**
 * The name as a mail may show it, or null for none. The name is whatever a
 * registrant typed, and the mail goes to whatever address they typed: it must
 * not let anyone send phishing text under our name. So it is plain text
 * (never markup), at most MAX_MAIL_NAME characters, without control or
 * invisible format characters, and left out entirely when it looks like
 * something a mail client would turn into a link (a URL, a domain, an
 * address) (OWASP ASVS 5.0 V12, content injection into outgoing mail).
 */
export function mailSafeName(name: string): string | null {
  const visible = name.replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/gu, "").replace(/\s+/gu, " ").trim();
  if (visible === "" || LINK_LIKE.test(visible)) return null;
  const chars = [...visible];
  return chars.length <= MAX_MAIL_NAME ? visible : `${chars.slice(0, MAX_MAIL_NAME).join("").trimEnd()}…`;
}

/** What one message says: its subject, the paragraphs around its link, the link and its label. */
interface Wording {
  subject: string;
  intro: string;
  action: string;
  link: string;
  outro: string;
}

/**
 * What each account mail says, given the web app's URL and the mailed secret:
 * a token that goes into the link, or the email code, which goes into the
 * subject and the body (its link only opens the page where it is typed).
 */
const WORDING: Readonly<Record<MailKind, (appUrl: string, secret: string) => Wording>> = {
  verification: (appUrl, token) => ({
    subject: "Confirm your email address",
    intro: "Please confirm your email address by opening this link. It is valid for 24 hours and can be used once.",
    action: "Confirm email address",
    link: tokenLink(appUrl, "/verify-email", token),
    outro: "If you did not create an account, you can ignore this message.",
  }),
  magic_link: (appUrl, token) => ({
    subject: "Your sign-in link",
    intro: "Open this link to sign in. It is valid for 15 minutes and can be used once.",
    action: "Sign in",
    link: tokenLink(appUrl, "/magic-link", token),
    outro: "If you did not ask to sign in, ignore this message: nobody can sign in without this link.",
  }),
  email_code: (appUrl, code) => ({
    subject: `Your sign-in code: ${code}`,
    intro: `Your sign-in code is ${code}. It is valid for 10 minutes and can be used once.`,
    action: "Enter the code",
    link: `${appUrl}/email-code`,
    outro: "If you did not ask to sign in, ignore this message: nobody can sign in without this code.",
  }),
  password_reset: (appUrl, token) => ({
    subject: "Reset your password",
    intro:
      "Someone asked to reset the password of your account. To choose a new password, open this link. It is valid for 1 hour and can be used once; resetting signs you out everywhere.",
    action: "Choose a new password",
    link: tokenLink(appUrl, "/reset-password", token),
    outro: "If you did not ask for this, ignore this message: your password stays as it is.",
  }),
};

/**
 * The account mail of `kind` to `to`, carrying `secret` (a token, or the email
 * code), in plain text and in HTML.
 */
export function accountMessage(kind: MailKind, appUrl: string, to: Recipient, secret: string): MailMessage {
  const { subject, intro, action, link, outro } = WORDING[kind](appUrl, secret);
  const name = mailSafeName(to.name);
  const greeting = name === null ? "Hello," : `Hi ${name},`;
  const text = `${greeting}\n\n${intro}\n\n${link}\n\n${outro}\n`;
  const html = [
    "<!doctype html>",
    `<html><body style="font-family: sans-serif; line-height: 1.5">`,
    `<p>${escapeHtml(greeting)}</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
    `<p style="word-break: break-all">${escapeHtml(link)}</p>`,
    `<p>${escapeHtml(outro)}</p>`,
    "</body></html>",
  ].join("\n");
  return { to: to.email, subject, text, html, link };
}
