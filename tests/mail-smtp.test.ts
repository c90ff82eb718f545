/**
 * Mail over real SMTP, as a user meets it: an in-process SMTP server receives
 * what the real HTTP server sends, and the test follows the links with plain
 * `fetch` calls in tRPC's superjson wire format.
 */
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Database } from "../server/db/database.ts";
import type { Services } from "../server/services.ts";
import { newAccount } from "./helpers/caller.ts";
import { openTestDatabase } from "./helpers/database.ts";
import { startTestServer } from "./helpers/http-server.ts";
import { testServices } from "./helpers/services.ts";

const APP_URL = "https://app.example.test";
const MAIL_FROM = "Gatehouse Test <auth@example.test>";

interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

const received: ReceivedMail[] = [];
let db: Database;
let services: Services;
let base: string;

/** Starts an SMTP server on 127.0.0.1, port 0, that keeps every message. */
async function startSmtpServer(): Promise<number> {
  const smtp = new SMTPServer({
    authOptional: true,
    // Plain SMTP on loopback: no self-signed STARTTLS for nodemailer to trip over.
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString("utf8"),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => smtp.listen(0, "127.0.0.1", resolve));
  afterAll(() => new Promise<void>((resolve) => smtp.close(() => resolve())));
  return (smtp.server.address() as AddressInfo).port;
}

beforeAll(async () => {
  const port = await startSmtpServer();
  db = await openTestDatabase();
  services = await testServices(db, { env: { SMTP_URL: `smtp://127.0.0.1:${port}`, MAIL_FROM, APP_URL } });
  afterAll(() => services.close());
  base = (await startTestServer(services)).url;
});

/** POSTs one tRPC mutation the way a hand-written client would. */
async function call(path: string, input: unknown, token?: string) {
  const response = await fetch(`${base}/trpc/${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify({ json: input }),
  });
  return { status: response.status, text: await response.text() };
}

async function ok<T>(path: string, input: unknown, token?: string): Promise<T> {
  const { status, text } = await call(path, input, token);
  expect(status, text).toBe(200);
  return (JSON.parse(text) as { result: { data: { json: T } } }).result.data.json;
}

/** Undoes quoted-printable transfer encoding (RFC 2045 section 6.7), as a mail client would. */
function decodeQuotedPrintable(body: string): string {
  const bytes = body.replace(/=\r?\n/g, "").replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, "latin1").toString("utf8");
}

/** The messages delivered to an address, once every background delivery has finished. */
async function mailsTo(email: string): Promise<ReceivedMail[]> {
  await services.background.drain();
  return received.filter((m) => m.to.includes(email));
}

/** The token in the newest message to `email` whose link goes to `path`. */
async function tokenFromMail(email: string, path: "/verify-email" | "/reset-password" | "/magic-link"): Promise<string> {
  const mails = (await mailsTo(email)).filter((m) => decodeQuotedPrintable(m.raw).includes(`${APP_URL}${path}?token=`));
  expect(mails.length).toBeGreaterThan(0);
  const text = decodeQuotedPrintable(mails.at(-1)!.raw);
  const link = new RegExp(`${APP_URL.replaceAll(".", "\\.")}${path}\\?token=([^\\s"<&]+)`).exec(text);
  expect(link).not.toBeNull();
  return decodeURIComponent(link![1]!);
}

describe("mail over SMTP", () => {
  it("verifies the email and resets the password by following the mailed links", async () => {
    const account = newAccount();
    const registered = await ok<{ accessToken: string; user: { emailVerified: boolean } }>("auth.register", account);
    expect(registered.user.emailVerified).toBe(false);

    const [verificationMail] = await mailsTo(account.email);
    expect(verificationMail!.from).toBe("auth@example.test");
    expect(verificationMail!.raw).toMatch(/^From: Gatehouse Test <auth@example\.test>\r?$/m);
    expect(verificationMail!.raw).toMatch(/^Subject: Confirm your email address\r?$/m);
    expect(verificationMail!.raw).toMatch(/^Content-Type: text\/plain/m);
    expect(verificationMail!.raw).toMatch(/^Content-Type: text\/html/m);

    const verificationToken = await tokenFromMail(account.email, "/verify-email");
    const verified = await ok<{ email: string; emailVerified: boolean }>("auth.verifyEmail", { token: verificationToken });
    expect(verified).toMatchObject({ email: account.email, emailVerified: true });
    const me = await fetch(`${base}/trpc/auth.me`, { headers: { authorization: `Bearer ${registered.accessToken}` } });
    const meBody = (await me.json()) as { result: { data: { json: { emailVerified: boolean } } } };
    expect(meBody.result.data.json.emailVerified).toBe(true);

    const known = await call("auth.requestPasswordReset", { email: account.email });
    const unknown = await call("auth.requestPasswordReset", { email: "nobody-here@example.com" });
    expect(known).toEqual({ status: 200, text: '{"result":{"data":{"json":{"success":true}}}}' });
    expect(unknown).toEqual(known);
    expect(await mailsTo("nobody-here@example.com")).toHaveLength(0);

    const resetToken = await tokenFromMail(account.email, "/reset-password");
    const newPassword = "over smtp and back again";
    expect(await ok("auth.resetPassword", { token: resetToken, newPassword })).toEqual({ success: true });

    const oldLogin = await call("auth.login", { email: account.email, password: account.password });
    expect(oldLogin.status).toBe(401);
    expect(JSON.parse(oldLogin.text).error.json.data.appCode).toBe("INVALID_CREDENTIALS");
    const reused = await call("auth.resetPassword", { token: resetToken, newPassword: "one more new passphrase" });
    expect(reused.status).toBe(400);
    expect(JSON.parse(reused.text).error.json.data.appCode).toBe("RESET_TOKEN_INVALID");
    const login = await ok<{ user: { email: string; emailVerified: boolean } }>("auth.login", { email: account.email, password: newPassword });
    expect(login.user).toMatchObject({ email: account.email, emailVerified: true });
  });

  it("signs in with a mailed magic link and with a mailed six-digit code", async () => {
    const account = newAccount();
    const registered = await ok<{ user: { id: string } }>("auth.register", account);
    expect(await ok("auth.requestMagicLink", { email: account.email })).toEqual({ success: true });
    const token = await tokenFromMail(account.email, "/magic-link");
    const viaLink = await ok<{ mfaRequired: boolean; user: { id: string; emailVerified: boolean } }>("auth.consumeMagicLink", { token });
    expect(viaLink).toMatchObject({ mfaRequired: false, user: { id: registered.user.id, emailVerified: true } });

    expect(await ok("auth.requestEmailCode", { email: account.email })).toEqual({ success: true });
    const codeMail = (await mailsTo(account.email)).map((m) => decodeQuotedPrintable(m.raw)).find((raw) => /^Subject: Your sign-in code: \d{6}\r?$/m.test(raw));
    expect(codeMail).toBeDefined();
    const code = /^Subject: Your sign-in code: (\d{6})\r?$/m.exec(codeMail!)![1]!;
    expect(codeMail).toContain(`Your sign-in code is ${code}.`);
    const viaCode = await ok<{ mfaRequired: boolean; user: { id: string } }>("auth.verifyEmailCode", { email: account.email, code });
    expect(viaCode).toMatchObject({ mfaRequired: false, user: { id: registered.user.id } });
  });

  it("registers and answers password resets when the SMTP server is unreachable", async () => {
    // A port that was just free: connections to it are refused.
    const closed = await new Promise<number>((resolve) => {
      const probe = new SMTPServer({ logger: false });
      probe.listen(0, "127.0.0.1", () => {
        const { port } = probe.server.address() as AddressInfo;
        probe.close(() => resolve(port));
      });
    });
    const down = await testServices(db, { env: { SMTP_URL: `smtp://127.0.0.1:${closed}`, APP_URL } });
    const { url } = await startTestServer(down);
    const account = newAccount();
    const response = await fetch(`${url}/trpc/auth.register`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: account }),
    });
    expect(response.status).toBe(200);
    const reset = await fetch(`${url}/trpc/auth.requestPasswordReset`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ json: { email: account.email } }),
    });
    expect(await reset.text()).toBe('{"result":{"data":{"json":{"success":true}}}}');
    await down.background.drain();
    // Both deliveries failed; the account and both tokens are there.
    const user = await db.prisma.user.findUniqueOrThrow({ where: { email: account.email }, include: { tokens: true } });
    expect(user.tokens.map((t) => t.purpose).sort()).toEqual(["email_verification", "password_reset"]);
  });
});
