/**
 * The browser side of tests/passkeys.test.ts: what a frontend does with the
 * typed client and @simplewebauthn/browser. Bundled by esbuild for the page;
 * the test drives it through `window.app`.
 */
import { startAuthentication, startRegistration } from "@simplewebauthn/browser";
import { createGatehouseClient, memoryTokenStore } from "../../packages/client/src/index.ts";

const page = globalThis as unknown as { GATEHOUSE_URL: string; app: unknown };
const tokens = memoryTokenStore();
const gh = createGatehouseClient({ url: page.GATEHOUSE_URL, tokens });

/** A failure as data: the test asserts on the appCode (or the browser's own error name). */
async function outcome<T>(run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; appCode: string | null; message: string }> {
  try {
    return { ok: true, value: await run() };
  } catch (error) {
    const e = error as { data?: { appCode?: string }; name?: string; message?: string };
    return { ok: false, appCode: e.data?.appCode ?? null, message: `${e.name ?? "Error"}: ${e.message ?? String(error)}` };
  }
}

/** A registration response from the authenticator, not yet sent. */
async function registrationResponse() {
  const optionsJSON = await gh.passkey.registrationOptions.mutate();
  return startRegistration({ optionsJSON: optionsJSON as Parameters<typeof startRegistration>[0]["optionsJSON"] });
}

/** A sign-in assertion from the authenticator for a fresh challenge, not yet sent. */
async function assertion() {
  const { challengeId, options } = await gh.passkey.authenticationOptions.mutate();
  const response = await startAuthentication({ optionsJSON: options as Parameters<typeof startAuthentication>[0]["optionsJSON"] });
  return { challengeId, response };
}

page.app = {
  register: (account: { email: string; password: string; name: string }) => outcome(async () => (await gh.auth.register.mutate(account)).user),
  addPasskey: (name: string) =>
    outcome(async () => gh.passkey.register.mutate({ response: await registrationResponse(), name })),
  registrationResponse: () => outcome(registrationResponse),
  list: () => outcome(() => gh.passkey.list.query()),
  logout: () =>
    outcome(async () => {
      await gh.auth.logout.mutate();
      return { stored: tokens.get() !== null };
    }),
  signInWithPasskey: () =>
    outcome(async () => {
      const { challengeId, response } = await assertion();
      const result = await gh.passkey.authenticate.mutate({ challengeId, response });
      return { user: result.user, stored: tokens.get()?.accessToken === result.accessToken };
    }),
  assertion: () => outcome(assertion),
  me: () => outcome(() => gh.auth.me.query()),
};
