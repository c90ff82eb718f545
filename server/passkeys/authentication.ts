/**
 * Signing in with a passkey (`passkey.authenticationOptions`,
 * `passkey.authenticate`): a discoverable credential, so the options name no
 * user and the response says which credential (and account) it is. A passkey
 * sign-in is a full sign-in: user verification is required, so it already is
 * two factors, and it opens a session even when TOTP is on.
 */
import type { AuthenticationResponseJSON } from "@simplewebauthn/server";
import type { AuthDeps, RequestMeta } from "../deps.ts";
import { appError } from "../errors.ts";
import { publicUserSelect } from "../identity/user-view.ts";
import { openSession, type AuthResult } from "../sessions/sessions.ts";
import { claimAuthenticationChallenge, issueWebauthnChallenge, WEBAUTHN_CHALLENGE_TTL_SECONDS } from "./challenges.ts";
import type { PasskeyDeps } from "./registration.ts";
import { expectedOf, relyingParty, webauthn } from "./relying-party.ts";

/** A challenge for `navigator.credentials.get()` (via @simplewebauthn/browser's `startAuthentication`). */
export async function passkeyAuthenticationOptions(deps: PasskeyDeps) {
  const rp = relyingParty(deps.config);
  const { id, challenge } = await issueWebauthnChallenge(deps, "authentication", null);
  const { generateAuthenticationOptions } = await webauthn();
  const options = await generateAuthenticationOptions({
    rpID: rp.id,
    challenge: Buffer.from(challenge, "base64url"),
    timeout: WEBAUTHN_CHALLENGE_TTL_SECONDS * 1000,
    userVerification: "required",
    // Empty: the authenticator offers the discoverable credentials it holds for this RP.
    allowCredentials: [],
  });
  return { challengeId: id, options };
}

/** The account id a response's userHandle names, or null. */
function userHandleOf(response: AuthenticationResponseJSON): string | null {
  const handle = response.response.userHandle;
  return handle ? Buffer.from(handle, "base64url").toString("utf8") : null;
}

/**
 * Verifies an assertion against its (single-use) challenge, the stored public
 * key, the allowed origins and RP ID, user verification and the signature
 * counter, then opens a session. Every failure is the same PASSKEY_INVALID.
 */
export async function authenticateWithPasskey(
  deps: AuthDeps & PasskeyDeps,
  input: { challengeId: string; response: AuthenticationResponseJSON },
  meta: RequestMeta,
): Promise<AuthResult> {
  const challenge = await claimAuthenticationChallenge(deps, input.challengeId);
  if (challenge === null) throw appError("PASSKEY_INVALID");
  const passkey = await deps.prisma.passkey.findUnique({
    where: { credentialId: input.response.id },
    select: { id: true, credentialId: true, publicKey: true, counter: true, transports: true, user: { select: publicUserSelect } },
  });
  if (!passkey) throw appError("PASSKEY_INVALID");
  // The user handle is not covered by the signature: a response that names
  // another account than the credential's is refused, not trusted.
  const handle = userHandleOf(input.response);
  if (handle !== null && handle !== passkey.user.id) throw appError("PASSKEY_INVALID");
  const { verifyAuthenticationResponse } = await webauthn();
  const verified = await verifyAuthenticationResponse({
    response: input.response,
    ...expectedOf(deps.config, challenge),
    credential: {
      id: passkey.credentialId,
      publicKey: new Uint8Array(passkey.publicKey),
      counter: Number(passkey.counter),
      transports: passkey.transports,
    },
  }).catch(() => null);
  if (!verified?.verified) throw appError("PASSKEY_INVALID");

  // A counter that does not grow means a cloned authenticator (WebAuthn
  // section 6.1.1); the library refuses it, and the conditional update makes
  // sure two sign-ins cannot both move the counter from the same value.
  const { newCounter } = verified.authenticationInfo;
  const { count } = await deps.prisma.passkey.updateMany({
    where: { id: passkey.id, counter: passkey.counter },
    data: { counter: BigInt(newCounter), lastUsedAt: deps.now() },
  });
  if (count === 0) throw appError("PASSKEY_INVALID");
  return openSession(deps, passkey.user, "passkey_login", meta);
}
