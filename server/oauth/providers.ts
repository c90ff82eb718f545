/** The configured sign-in providers (OAUTH_PROVIDERS), built once at start-up. */
import type { Config } from "../env.ts";
import type { Logger } from "../log.ts";
import { oidcProvider } from "./oidc.ts";
import { githubProvider, googleProvider } from "./presets.ts";
import type { OAuthProvider } from "./provider.ts";

/** `${PUBLIC_URL}/oauth/<provider>/callback`: the redirect URI registered with each provider. */
export function callbackUrl(config: Pick<Config, "publicUrl">, provider: string): string {
  return `${config.publicUrl}/oauth/${provider}/callback`;
}

export function createOAuthProviders(config: Pick<Config, "oauthProviders" | "publicUrl" | "production">, log: Logger, now: () => Date): Map<string, OAuthProvider> {
  const providers = new Map<string, OAuthProvider>();
  for (const provider of config.oauthProviders) {
    const redirectUri = callbackUrl(config, provider.name);
    const built =
      provider.kind === "github"
        ? githubProvider(provider, redirectUri, log)
        : provider.kind === "google"
          ? googleProvider(provider, redirectUri, log, now)
          : oidcProvider(provider, { allowHttp: !config.production, log });
    providers.set(provider.name, built);
  }
  return providers;
}
