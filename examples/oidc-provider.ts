/**
 * A local OpenID Connect provider to sign in to Gatehouse with, built on
 * panva's `oidc-provider` (the certified implementation): real discovery,
 * signing keys, PKCE and ID tokens. Its login page asks only for an email, a
 * name and whether to assert the email as verified, so every linking case
 * can be tried by hand. The tests use the same provider (tests/oauth.test.ts).
 *
 *   npx tsx examples/oidc-provider.ts
 *   # issuer http://127.0.0.1:4000, client gatehouse / gatehouse-local-secret,
 *   # redirect URI http://127.0.0.1:3000/oauth/oidc/callback
 *
 * IDP_PORT, IDP_CLIENT_ID, IDP_CLIENT_SECRET and IDP_REDIRECT_URI change those.
 * For trying things out only: accounts live in memory and anyone may claim
 * any email here.
 */
import { createHash, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { pathToFileURL } from "node:url";
import { exportJWK, generateKeyPair } from "jose";
import Provider, { type KoaContextWithOIDC } from "oidc-provider";

export interface LocalIdpOptions {
  /** Port to listen on (0: any free port). */
  port?: number;
  clientId: string;
  clientSecret: string;
  redirectUris: string[];
}

export interface LocalIdp {
  /** The issuer URL, for OAUTH_<NAME>_ISSUER. */
  issuer: string;
  close(): Promise<void>;
}

interface Account {
  email: string;
  emailVerified: boolean;
  name: string;
}

/** One subject per email, as a real provider keeps one account per address. */
function subjectOf(email: string): string {
  return `acct-${createHash("sha256").update(email).digest("hex").slice(0, 16)}`;
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

function loginPage(uid: string, client: string): string {
  return `<!doctype html><html><body style="font-family: sans-serif">
<h1>Local identity provider</h1><p>Sign in to <b>${escape(client)}</b> as:</p>
<form method="post" action="/interaction/${escape(uid)}">
<p><label>Email <input name="email" type="email" required autofocus></label></p>
<p><label>Name <input name="name" value="Local User"></label></p>
<p><label><input name="email_verified" type="checkbox" value="true" checked> assert the email as verified</label></p>
<p><button type="submit">Sign in</button></p>
</form></body></html>`;
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
}

/** Starts the provider on 127.0.0.1. */
export async function startLocalIdp(options: LocalIdpOptions): Promise<LocalIdp> {
  const accounts = new Map<string, Account>();
  const server: Server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, "127.0.0.1", resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair("RS256", { extractable: true });

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: options.clientId,
        client_secret: options.clientSecret,
        redirect_uris: options.redirectUris,
        grant_types: ["authorization_code"],
        response_types: ["code"],
        token_endpoint_auth_method: "client_secret_basic",
      },
    ],
    jwks: { keys: [{ ...(await exportJWK(privateKey)), kid: "local-1", alg: "RS256", use: "sig" }] },
    cookies: { keys: [randomBytes(32).toString("hex")] },
    claims: { openid: ["sub"], email: ["email", "email_verified"], profile: ["name"] },
    // Email and name in the ID token itself, as most providers send them.
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return { accountId: sub, claims: () => ({ sub, email: account.email, email_verified: account.emailVerified, name: account.name }) };
    },
    // A first-party provider: no consent screen, the requested scopes are granted.
    loadExistingGrant: async (ctx: KoaContextWithOIDC) => {
      const accountId = ctx.oidc.session?.accountId;
      if (!accountId || !ctx.oidc.client) return undefined;
      const grant = new ctx.oidc.provider.Grant({ clientId: ctx.oidc.client.clientId, accountId });
      grant.addOIDCScope("openid email profile");
      await grant.save();
      return grant;
    },
  });
  const callback = provider.callback();

  server.on("request", (req, res) => {
    const interaction = /^\/interaction\/([\w-]+)$/.exec((req.url ?? "").split("?")[0]!);
    if (!interaction) return callback(req, res);
    void (async () => {
      try {
        const details = await provider.interactionDetails(req, res);
        if (req.method === "GET") {
          res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
          res.end(loginPage(details.uid, String(details.params.client_id)));
          return;
        }
        const form = await formOf(req);
        const email = (form.get("email") ?? "").trim().toLowerCase();
        const sub = subjectOf(email);
        accounts.set(sub, { email, emailVerified: form.get("email_verified") === "true", name: form.get("name") || email });
        await provider.interactionFinished(req, res, { login: { accountId: sub } }, { mergeWithLastSubmission: false });
      } catch (error) {
        res.writeHead(400, { "content-type": "text/plain" });
        res.end(`interaction failed: ${(error as Error).message}`);
      }
    })();
  });

  return {
    issuer,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const idp = await startLocalIdp({
    port: Number(process.env.IDP_PORT ?? 4000),
    clientId: process.env.IDP_CLIENT_ID ?? "gatehouse",
    clientSecret: process.env.IDP_CLIENT_SECRET ?? "gatehouse-local-secret",
    redirectUris: [process.env.IDP_REDIRECT_URI ?? "http://127.0.0.1:3000/oauth/oidc/callback"],
  });
  console.log(`OpenID Connect provider listening: issuer ${idp.issuer}`);
  console.log("Start Gatehouse with:");
  console.log(`  OAUTH_PROVIDERS=oidc OAUTH_OIDC_ISSUER=${idp.issuer} OAUTH_OIDC_CLIENT_ID=gatehouse OAUTH_OIDC_CLIENT_SECRET=gatehouse-local-secret npm start`);
}
