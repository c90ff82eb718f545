/**
 * Inputs and outputs of the `passkey.*` procedures. WebAuthn responses are
 * the JSON forms @simplewebauthn/browser produces (base64url fields); their
 * shape is checked here and their content by @simplewebauthn/server.
 */
import * as z from "zod";
import { Name } from "../auth/schema.ts";

/** Attestation objects of real authenticators are a few KB; the body limit (100 KB) caps the rest. */
const Base64Url = z.string().max(32_768).regex(/^[A-Za-z0-9_-]*={0,2}$/, "Must be base64url");
const CredentialId = Base64Url.min(1).max(1_366);
const Transports = z.array(z.string().max(32)).max(10);
/** What browsers report for the extensions WebAuthn defines (others are dropped); unused by the checks. */
const ExtensionResults = z.object({
  appid: z.boolean().optional(),
  credProps: z.object({ rk: z.boolean().optional() }).optional(),
  hmacCreateSecret: z.boolean().optional(),
  prf: z.object({ enabled: z.boolean().optional() }).optional(),
});

const RegistrationResponse = z.object({
  id: CredentialId,
  rawId: CredentialId,
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: Base64Url,
    attestationObject: Base64Url,
    authenticatorData: Base64Url.optional(),
    transports: Transports.optional(),
    publicKeyAlgorithm: z.number().int().optional(),
    publicKey: Base64Url.optional(),
  }),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: ExtensionResults,
});

const AuthenticationResponse = z.object({
  id: CredentialId,
  rawId: CredentialId,
  type: z.literal("public-key"),
  response: z.object({
    clientDataJSON: Base64Url,
    authenticatorData: Base64Url,
    signature: Base64Url,
    userHandle: Base64Url.optional(),
  }),
  authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
  clientExtensionResults: ExtensionResults,
});

export const RegisterPasskeyInput = z.object({ response: RegistrationResponse, name: Name.optional() });
export const RemovePasskeyInput = z.object({
  id: z.string().min(1, "Passkey id is required").max(100),
  password: z.string().min(1, "Password is required").max(128, "Password must be at most 128 characters"),
});
export const AuthenticatePasskeyInput = z.object({
  challengeId: z.string().min(1, "Challenge id is required").max(100),
  response: AuthenticationResponse,
});

const CredentialDescriptor = z.object({ id: z.string(), type: z.string(), transports: z.array(z.string()).optional() });

/** `PublicKeyCredentialCreationOptionsJSON`: pass it to `startRegistration({ optionsJSON })`. */
export const CreationOptionsOutput = z.object({
  rp: z.object({ id: z.string().optional(), name: z.string() }),
  user: z.object({ id: z.string(), name: z.string(), displayName: z.string() }),
  challenge: z.string(),
  pubKeyCredParams: z.array(z.object({ type: z.literal("public-key"), alg: z.number() })),
  timeout: z.number().optional(),
  excludeCredentials: z.array(CredentialDescriptor).optional(),
  authenticatorSelection: z
    .object({
      authenticatorAttachment: z.enum(["platform", "cross-platform"]).optional(),
      residentKey: z.enum(["discouraged", "preferred", "required"]).optional(),
      requireResidentKey: z.boolean().optional(),
      userVerification: z.enum(["discouraged", "preferred", "required"]).optional(),
    })
    .optional(),
  attestation: z.enum(["direct", "enterprise", "indirect", "none"]).optional(),
  attestationFormats: z.array(z.string()).optional(),
  hints: z.array(z.string()).optional(),
  extensions: z.unknown().optional(),
});

/** `PublicKeyCredentialRequestOptionsJSON`: pass it to `startAuthentication({ optionsJSON })`. */
const RequestOptionsOutput = z.object({
  challenge: z.string(),
  timeout: z.number().optional(),
  rpId: z.string().optional(),
  allowCredentials: z.array(CredentialDescriptor).optional(),
  userVerification: z.enum(["discouraged", "preferred", "required"]).optional(),
  hints: z.array(z.string()).optional(),
  extensions: z.unknown().optional(),
});

export const AuthenticationOptionsOutput = z.object({ challengeId: z.string(), options: RequestOptionsOutput });

export const PasskeyOutput = z.object({
  id: z.string(),
  name: z.string(),
  createdAt: z.date(),
  lastUsedAt: z.date().nullable(),
});
