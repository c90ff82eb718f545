/**
 * TOTP (RFC 6238) with the `otpauth` library: SHA-1, 6 digits, 30-second
 * steps, the parameters every authenticator app supports (Google
 * Authenticator ignores anything else). Codes are accepted one step either
 * side of now (RFC 6238 section 5.2 recommends at most one step of network
 * delay), and the caller refuses a step at or before the last one accepted,
 * so a code works once.
 */
import { Secret, TOTP } from "otpauth";

const PERIOD_SECONDS = 30;
const DIGITS = 6;
/** Steps accepted either side of the current one. */
const WINDOW = 1;
/** 160 bits: the HMAC-SHA-1 key length RFC 4226 section 4 recommends. */
const SECRET_BYTES = 20;
const ISSUER = "Gatehouse";

function totpFor(secretBase32: string, account: string): TOTP {
  return new TOTP({
    issuer: ISSUER,
    label: account,
    algorithm: "SHA1",
    digits: DIGITS,
    period: PERIOD_SECONDS,
    secret: Secret.fromBase32(secretBase32),
  });
}

/** A new random secret, as the base32 text authenticator apps take. */
export function newTotpSecret(): string {
  return new Secret({ size: SECRET_BYTES }).base32;
}

/** What a user needs to add the secret to an app: the `otpauth://` URL and its QR code as SVG. */
export async function totpProvisioning(secretBase32: string, account: string): Promise<{ otpauthUrl: string; qrSvg: string }> {
  const otpauthUrl = totpFor(secretBase32, account).toString();
  // Loaded on first use, off the start-up path. Error correction M: the usual choice for codes shown on screens.
  const { default: QRCode } = await import("qrcode");
  const qrSvg = await QRCode.toString(otpauthUrl, { type: "svg", errorCorrectionLevel: "M", margin: 2 });
  return { otpauthUrl, qrSvg };
}

/**
 * The time step a 6-digit code belongs to, if it is valid within ±1 step of
 * `now`; null otherwise. The caller decides whether that step was used already.
 */
export function matchingTotpStep(secretBase32: string, code: string, now: Date): number | null {
  const timestamp = now.getTime();
  const delta = totpFor(secretBase32, "").validate({ token: code, timestamp, window: WINDOW });
  if (delta === null) return null;
  return Math.floor(timestamp / 1000 / PERIOD_SECONDS) + delta;
}
