/**
 * The two messages the service sends. Each carries one link to the web app
 * (`APP_URL`) with the token URL-encoded in its query; the HTML body escapes
 * everything that came from a user (OWASP XSS Prevention Cheat Sheet, rule 1).
 */
import type { MailMessage } from "./mailer.ts";

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
export function tokenLink(appUrl: string, path: string, token: string): string {
  return `${appUrl}${path}?token=${encodeURIComponent(token)}`;
}

interface Recipient {
  email: string;
  name: string;
}

function compose(to: Recipient, subject: string, intro: string, action: string, link: string, outro: string): MailMessage {
  const text = `Hi ${to.name},\n\n${intro}\n\n${link}\n\n${outro}\n`;
  const html = [
    "<!doctype html>",
    `<html><body style="font-family: sans-serif; line-height: 1.5">`,
    `<p>Hi ${escapeHtml(to.name)},</p>`,
    `<p>${escapeHtml(intro)}</p>`,
    `<p><a href="${escapeHtml(link)}">${escapeHtml(action)}</a></p>`,
    `<p style="word-break: break-all">${escapeHtml(link)}</p>`,
    `<p>${escapeHtml(outro)}</p>`,
    "</body></html>",
  ].join("\n");
  return { to: to.email, subject, text, html, link };
}

/** The verification message sent on registration and by `auth.requestEmailVerification`. */
export function verificationMessage(appUrl: string, to: Recipient, token: string): MailMessage {
  return compose(
    to,
    "Confirm your email address",
    "Please confirm your email address by opening this link. It is valid for 24 hours and can be used once.",
    "Confirm email address",
    tokenLink(appUrl, "/verify-email", token),
    "If you did not create an account, you can ignore this message.",
  );
}

/** The message sent by `auth.requestPasswordReset`. */
export function passwordResetMessage(appUrl: string, to: Recipient, token: string): MailMessage {
  return compose(
    to,
    "Reset your password",
    "Someone asked to reset the password of your account. To choose a new password, open this link. It is valid for 1 hour and can be used once; resetting signs you out everywhere.",
    "Choose a new password",
    tokenLink(appUrl, "/reset-password", token),
    "If you did not ask for this, ignore this message: your password stays as it is.",
  );
}
