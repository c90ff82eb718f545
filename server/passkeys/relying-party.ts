/**
 * Who Gatehouse is to a passkey authenticator: the relying party's ID (a
 * domain), the page origins allowed to run ceremonies, and the name shown.
 * From APP_URL, or WEBAUTHN_RP_ID / WEBAUTHN_ORIGINS.
 */
import type { Config } from "../env.ts";

export interface RelyingParty {
  id: string;
  name: string;
  origins: string[];
}

export function relyingParty(config: Pick<Config, "webauthn">): RelyingParty {
  return { id: config.webauthn.rpId, name: "Gatehouse", origins: config.webauthn.origins };
}

/**
 * What every passkey response must match, for the library's verify functions:
 * the challenge we issued, one of the allowed origins, our RP ID, and user
 * verification (so that a passkey is a whole sign-in; see registration.ts).
 */
export function expectedOf(config: Pick<Config, "webauthn">, challenge: string) {
  const rp = relyingParty(config);
  return { expectedChallenge: challenge, expectedOrigin: rp.origins, expectedRPID: rp.id, requireUserVerification: true };
}

/**
 * @simplewebauthn/server, loaded on the first passkey call: it pulls in ASN.1
 * and CBOR parsers that start-up (and deployments without passkeys) need not pay for.
 */
export const webauthn = () => import("@simplewebauthn/server");

/** The `challenge` a WebAuthn response's clientDataJSON carries, or null when it has none. */
export function challengeOf(clientDataJSON: string): string | null {
  try {
    const data = JSON.parse(Buffer.from(clientDataJSON, "base64url").toString("utf8")) as { challenge?: unknown };
    return typeof data.challenge === "string" ? data.challenge : null;
  } catch {
    return null;
  }
}
