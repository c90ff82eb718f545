/**
 * The password policy of docs/API.md, in one place for register, change
 * and reset: length is checked by the input schema; here we refuse common
 * passwords and passwords that contain the email's local part
 * (OWASP ASVS v4 2.1.7, NIST SP 800-63B 5.1.1.2: check against breached lists).
 */
import { dictionary } from "@zxcvbn-ts/language-common";
import { appError } from "../errors.ts";

/** ~49,000 common passwords maintained by zxcvbn-ts, compared case-insensitively. */
const COMMON_PASSWORDS: ReadonlySet<string> = new Set(
  (dictionary["passwords-common"] as string[]).map((p) => p.toLowerCase()),
);

/** Local parts this short are too generic to refuse (e.g. `a@example.com`). */
const MIN_LOCAL_PART = 3;

/** The reason a password is refused, or null when it passes. */
function passwordWeakness(password: string, email: string): string | null {
  const lower = password.toLowerCase();
  if (COMMON_PASSWORDS.has(lower)) return "Password is too common";
  const localPart = email.slice(0, email.lastIndexOf("@")).toLowerCase();
  if (localPart.length >= MIN_LOCAL_PART && lower.includes(localPart)) {
    return "Password must not contain your email address";
  }
  return null;
}

/** Throws WEAK_PASSWORD when the password breaks the policy. */
export function assertStrongPassword(password: string, email: string): void {
  const reason = passwordWeakness(password, email);
  if (reason !== null) throw appError("WEAK_PASSWORD", { message: reason });
}
