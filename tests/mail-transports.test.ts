/** Choosing the mail transport from the configuration, the development outbox, message bodies, background hand-off. */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { BackgroundTasks } from "../server/background.ts";
import { createMailer } from "../server/mail/mailer.ts";
import { FileOutbox, MemoryOutbox } from "../server/mail/outbox.ts";
import { SmtpMailer } from "../server/mail/smtp.ts";
import { accountMessage, escapeHtml } from "../server/mail/templates.ts";
import { UnconfiguredMailer } from "../server/mail/unconfigured.ts";
import { testConfig } from "./helpers/services.ts";

const TOKEN = "0190f5b2-7c1e-7a3b-8c4d-5e6f7a8b9c0d.abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

/** A logger whose JSON lines the test reads. */
function capturingLog() {
  const lines: string[] = [];
  const log = pino({ level: "debug" }, { write: (line: string) => void lines.push(line) });
  return { log, lines, text: () => lines.join("") };
}

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe("createMailer", () => {
  it("uses SMTP whenever SMTP_URL is set, even in production", () => {
    const { log } = capturingLog();
    for (const NODE_ENV of ["development", "production"]) {
      const config = testConfig({ NODE_ENV, SMTP_URL: "smtp://mail.example.test:2525", BCRYPT_COST: "10" });
      const mailer = createMailer(config, log);
      expect(mailer).toBeInstanceOf(SmtpMailer);
      mailer.close?.();
    }
  });

  it("uses the in-memory outbox with DATA_DIR=:memory: and the file outbox otherwise, outside production", () => {
    const { log } = capturingLog();
    expect(createMailer(testConfig(), log)).toBeInstanceOf(MemoryOutbox);
    expect(createMailer(testConfig({ DATA_DIR: "/tmp/somewhere" }), log)).toBeInstanceOf(FileOutbox);
  });

  it("in production without SMTP_URL warns once and never logs or stores a token", async () => {
    const dataDir = mkdtempSync(join(tmpdir(), "gatehouse-mail-"));
    dirs.push(dataDir);
    const { log, lines, text } = capturingLog();
    const mailer = createMailer(testConfig({ NODE_ENV: "production", BCRYPT_COST: "10", DATA_DIR: dataDir }), log);
    expect(mailer).toBeInstanceOf(UnconfiguredMailer);
    await mailer.send(accountMessage("password_reset", "https://app.example.test", { email: "a@example.com", name: "A" }, TOKEN));
    await mailer.send(accountMessage("verification", "https://app.example.test", { email: "a@example.com", name: "A" }, TOKEN));
    expect(lines.filter((l) => l.includes("SMTP_URL is not set:"))).toHaveLength(1);
    expect(text()).not.toContain(TOKEN.split(".")[1]);
    expect(text()).not.toContain("a@example.com");
    expect(() => readFileSync(join(dataDir, "outbox.jsonl"))).toThrow();
  });
});

describe("the development outbox", () => {
  it("appends one JSON line per message under DATA_DIR, creating the directory, and logs it", async () => {
    const root = mkdtempSync(join(tmpdir(), "gatehouse-mail-"));
    dirs.push(root);
    const dataDir = join(root, "nested", "data");
    const { log, text } = capturingLog();
    const now = new Date("2026-03-04T05:06:07.000Z");
    const outbox = new FileOutbox(dataDir, log, () => now);
    const first = accountMessage("verification", "http://localhost:3000", { email: "a@example.com", name: "A" }, TOKEN);
    const second = accountMessage("password_reset", "http://localhost:3000", { email: "b@example.com", name: "B" }, TOKEN);
    await outbox.send(first);
    await outbox.send(second);

    const lines = readFileSync(join(dataDir, "outbox.jsonl"), "utf8").trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(Object.keys(entry)).toEqual(["to", "subject", "text", "link", "sentAt"]);
    expect(entry).toEqual({ to: "a@example.com", subject: first.subject, text: first.text, link: first.link, sentAt: now.toISOString() });
    expect(JSON.parse(lines[1]!)).toMatchObject({ to: "b@example.com", link: second.link });
    expect(text()).toContain(first.link);
  });
});

describe("message bodies", () => {
  it("link to APP_URL with the token URL-encoded", () => {
    const odd = "a b&c=d/é";
    const message = accountMessage("verification", "https://app.example.test", { email: "a@example.com", name: "A" }, odd);
    expect(message.link).toBe(`https://app.example.test/verify-email?token=${encodeURIComponent(odd)}`);
    expect(new URL(message.link).searchParams.get("token")).toBe(odd);
    const reset = accountMessage("password_reset", "https://app.example.test", { email: "a@example.com", name: "A" }, TOKEN);
    expect(reset.link).toBe(`https://app.example.test/reset-password?token=${TOKEN}`);
    expect(reset.text).toContain(reset.link);
    expect(reset.html).toContain(`href="${reset.link}"`);
  });

  it("escape the user's name in HTML and keep it as written in plain text", () => {
    const name = `<script>alert("x")</script> & 'co'`;
    const message = accountMessage("verification", "https://app.example.test", { email: "a@example.com", name }, TOKEN);
    expect(message.text).toContain(`Hi ${name},`);
    expect(message.html).not.toContain("<script>");
    expect(message.html).toContain(escapeHtml(name));
    expect(escapeHtml(name)).toBe("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;co&#39;");
  });
});

describe("BackgroundTasks", () => {
  it("does not make the caller wait, and drain() waits for the work", async () => {
    const { log } = capturingLog();
    const tasks = new BackgroundTasks(log);
    let done = false;
    tasks.run("slow", null, async () => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      done = true;
    });
    expect(done).toBe(false);
    expect(tasks.pending).toBe(1);
    await tasks.drain();
    expect(done).toBe(true);
    expect(tasks.pending).toBe(0);
  });

  it("logs a failure with its request id, and only the error's message and code", async () => {
    const { log, lines } = capturingLog();
    const tasks = new BackgroundTasks(log);
    tasks.run("verification mail", "req-42", async () => {
      throw Object.assign(new Error("550 mailbox unavailable"), { code: "EENVELOPE", message_body: TOKEN });
    });
    await tasks.drain();
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line).toMatchObject({
      level: 50,
      msg: "background task failed",
      task: "verification mail",
      requestId: "req-42",
      err: { message: "550 mailbox unavailable", code: "EENVELOPE" },
    });
    expect(lines[0]).not.toContain(TOKEN);
  });

  it("stops waiting at the drain timeout", async () => {
    const { log, lines } = capturingLog();
    const tasks = new BackgroundTasks(log);
    tasks.run("stuck", null, () => new Promise<void>(() => {}));
    await tasks.drain(20);
    expect(tasks.pending).toBe(1);
    expect(lines.some((l) => l.includes("background tasks still running at shutdown"))).toBe(true);
  });
});
