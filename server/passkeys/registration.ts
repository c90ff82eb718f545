/**
 * Adding a passkey to a signed-in account (`passkey.registrationOptions`,
 * `passkey.register`) with @simplewebauthn/server. Passkeys are discoverable
 * credentials (resident keys) with user verification required, so that one
 * is a whole sign-in on its own: something the user has (the device) and is
 * or knows (the biometric or PIN that unlocks it); W3C WebAuthn Level 3,
 * section 6.2.3 and 13.4.
 */
import type { RegistrationResponseJSON } from "@simplewebauthn/server";
import { eventData } from "../audit/events.ts";
import type { Config } from "../env.ts";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import type { PublicUser } from "../identity/user-view.ts";
import { claimRegistrationChallenge, issueWebauthnChallenge, WEBAUTHN_CHALLENGE_TTL_SECONDS } from "./challenges.ts";
import { passkeyView, type PasskeyView } from "./manage.ts";
import { challengeOf, expectedOf, relyingParty, webauthn } from "./relying-party.ts";
import { isUniqueViolation } from "../db/prisma-errors.ts";

export type PasskeyDeps = Pick<AuthDeps, "prisma" | "now"> & { config: Pick<Config, "webauthn"> };

/** The options for `navigator.credentials.create()` (via @simplewebauthn/browser's `startRegistration`). */
export async function passkeyRegistrationOptions(deps: PasskeyDeps, user: PublicUser) {
  const rp = relyingParty(deps.config);
  const existing = await deps.prisma.passkey.findMany({ where: { userId: user.id }, select: { credentialId: true, transports: true } });
  const { challenge } = await issueWebauthnChallenge(deps, "registration", user.id);
  const { generateRegistrationOptions } = await webauthn();
  return generateRegistrationOptions({
    rpName: rp.name,
    rpID: rp.id,
    userName: user.email,
    userDisplayName: user.name,
    // The user handle is the account id: a sign-in's userHandle names the account.
    userID: new TextEncoder().encode(user.id),
    challenge: Buffer.from(challenge, "base64url"),
    timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
    attestationType: "none",
    // One passkey per authenticator: the browser refuses to make a second on a device that has one.
    excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: p.transports })),
    authenticatorSelection: { residentKey: "required", userVerification: "required" },
  });
}

/**
 * Verifies a registration response against a live registration challenge of
 * this user (spent whatever the outcome), the allowed origins and RP ID, and
 * requires user verification; stores the credential's public key.
 */
export async function registerPasskey(
  deps: PasskeyDeps,
  user: PublicUser,
  input: { response: RegistrationResponseJSON; name?: string | undefined },
  meta: RequestMeta,
): Promise<PasskeyView> {
  const challenge = challengeOf(input.response.response.clientDataJSON);
  if (challenge === null || !(await claimRegistrationChallenge(deps, user.id, challenge))) throw appError("PASSKEY_INVALID");
  const { verifyRegistrationResponse } = await webauthn();
  const verified = await verifyRegistrationResponse({
    response: input.response,
    ...expectedOf(deps.config, challenge),
  }).catch(() => null);
  if (!verified?.verified) throw appError("PASSKEY_INVALID");
  const { credential } = verified.registrationInfo;
  const now = deps.now();
  try {
    const [passkey] = await deps.prisma.$transaction([
      deps.prisma.passkey.create({
        data: {
          userId: user.id,
          credentialId: credential.id,
          publicKey: new Uint8Array(credential.publicKey),
          counter: BigInt(credential.counter),
          transports: credential.transports ?? [],
          name: input.name ?? "Passkey",
          createdAt: now,
        },
        select: { id: true, name: true, createdAt: true, lastUsedAt: true },
      }),
      deps.prisma.authEvent.create({ data: { userId: user.id, ...eventData("passkey_added", meta, now) } }),
    ]);
    return passkeyView(passkey);
  } catch (error) {
    // The credential id is unique: the same authenticator credential cannot be registered twice.
    if (isUniqueViolation(error)) throw appError("PASSKEY_INVALID");
    throw error;
  }
}
