/**
 * RFC 6238 computed here with node:crypto, independently of the server's
 * library, so that a test's codes prove the server follows the RFC rather
 * than agreeing with itself.
 */
import { createHmac } from "node:crypto";

const BASE32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

function base32Decode(text: string): Buffer {
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const char of text.replace(/=+$/, "").toUpperCase()) {
    const index = BASE32.indexOf(char);
    if (index < 0) throw new Error(`not base32: ${char}`);
    value = (value << 5) | index;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

/** The 6-digit HOTP value (RFC 4226 section 5.3) for a counter. */
function hotp(secretBase32: string, counter: number): string {
  const message = Buffer.alloc(8);
  message.writeBigUInt64BE(BigInt(counter));
  const digest = createHmac("sha1", base32Decode(secretBase32)).update(message).digest();
  const offset = digest[digest.length - 1]! & 0x0f;
  const binary = digest.readUInt32BE(offset) & 0x7fffffff;
  return String(binary % 1_000_000).padStart(6, "0");
}

/** The TOTP code for a time, `stepOffset` steps of 30 s away from it. */
export function totpCode(secretBase32: string, at: Date, stepOffset = 0): string {
  return hotp(secretBase32, Math.floor(at.getTime() / 1000 / 30) + stepOffset);
}
