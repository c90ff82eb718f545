/**
 * Whether a configured secret (JWT_SECRET) is strong enough for production.
 * Length alone says little: 32 × "a" is 32 bytes. An HMAC key must be as hard
 * to guess as the hash is wide (RFC 7518 section 3.2, RFC 8725 section 3.5:
 * "human-memorizable passwords MUST NOT be directly used as the key"), so we
 * refuse what a person types: one repeated character or pattern, a word from
 * the common-password or diceware lists (possibly with digits around it), and
 * anything whose characters are too uniform to hold 128 bits.
 */
import { dictionary } from "@zxcvbn-ts/language-common";

/** Least estimated entropy, in bits, of a production secret. */
const MIN_SECRET_BITS = 128;

const WORDS: ReadonlySet<string> = new Set(
  [...(dictionary["passwords-common"] as string[]), ...(dictionary["diceware-common"] as string[])].map((w) => w.toLowerCase()),
);

/** The length of the shortest unit the string repeats (its own length when it repeats nothing). */
function period(text: string): number {
  for (let p = 1; p <= text.length / 2; p++) {
    let repeats = true;
    for (let i = p; i < text.length && repeats; i++) repeats = text[i] === text[i - p];
    if (repeats) return p;
  }
  return text.length;
}

/**
 * Entropy estimate: length × the Shannon entropy of the string's own
 * character frequencies. Random base64 of 32 bytes scores about 200 bits,
 * random hex of 32 bytes about 240; 40 × "ab" scores 40.
 */
function estimatedBits(text: string): number {
  const chars = [...text];
  const counts = new Map<string, number>();
  for (const c of chars) counts.set(c, (counts.get(c) ?? 0) + 1);
  let perChar = 0;
  for (const n of counts.values()) perChar -= (n / chars.length) * Math.log2(n / chars.length);
  return perChar * chars.length;
}

/** Why the secret is too weak for production, or null when it is fine. */
export function secretWeakness(secret: string): string | null {
  if (period(secret) < secret.length) return "is a short pattern repeated; use random bytes (openssl rand -base64 32)";
  const letters = secret.toLowerCase().replace(/[^a-z]/g, "");
  const core = secret.toLowerCase().replace(/^[^a-z]+|[^a-z]+$/g, "");
  if (WORDS.has(core) || WORDS.has(letters) || (letters.length > 0 && period(letters) < letters.length && WORDS.has(letters.slice(0, period(letters))))) {
    return "is a dictionary word; use random bytes (openssl rand -base64 32)";
  }
  if (estimatedBits(secret) < MIN_SECRET_BITS) {
    return `holds too little entropy (about ${Math.floor(estimatedBits(secret))} bits, at least ${MIN_SECRET_BITS} needed); use random bytes (openssl rand -base64 32)`;
  }
  return null;
}
