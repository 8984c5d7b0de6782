import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { HandlerError, InvalidConfigError } from "../../../src/errors.js";
import { TelegramLogHandler, type TelegramLogHandlerOptions } from "../../../src/handlers/chat/telegram.js";
import { LogLevel } from "../../../src/levels.js";
import {
  type Captured,
  capture,
  eventually,
  FakeApi,
  type FakeRequest,
  linesOf,
  type Reply,
  record,
  rejection,
  WindowLimiter,
} from "../../helpers/fake-api.js";
import { ALL_SECRETS, TELEGRAM_TOKEN } from "../../helpers/secrets.js";
import { runSecretsChild } from "../../helpers/secrets-child.js";

const METHOD_PATH = `/bot${TELEGRAM_TOKEN}/sendMessage`;
const CHAT = -1001234567890;

function failure(status: number, description: string, parameters?: Record<string, unknown>): Reply {
  return {
    status,
    body: { ok: false, error_code: status, description, ...(parameters ? { parameters } : {}) },
  };
}

/** Answers like the Bot API's sendMessage, with a per-chat limiter answering 429 + retry_after. */
function telegramLike(limiter = new WindowLimiter(1000, 1000)): (request: FakeRequest) => Reply {
  let messageId = 0;
  return (request) => {
    if (!request.url.startsWith(`/bot${TELEGRAM_TOKEN}/`)) return failure(401, "Unauthorized");
    if (request.url !== METHOD_PATH) return failure(404, "Not Found");
    const text = request.json?.text;
    if (typeof text !== "string" || text.length === 0)
      return failure(400, "Bad Request: message text is empty");
    if (text.length > 4096) return failure(400, "Bad Request: message is too long");
    const slot = limiter.take();
    if (!slot.allowed) {
      const seconds = Math.ceil(slot.resetAfterMs / 1000);
      return failure(429, `Too Many Requests: retry after ${seconds}`, { retry_after: seconds });
    }
    return {
      status: 200,
      body: { ok: true, result: { message_id: ++messageId, chat: { id: request.json?.chat_id }, text } },
    };
  };
}

const FAST: TelegramLogHandlerOptions = {
  minIntervalMs: 0,
  lingerMs: 5,
  retryBaseMs: 5,
  closeTimeoutMs: 3000,
};

async function setup(
  responder: (request: FakeRequest) => Reply | "hang",
  options: TelegramLogHandlerOptions,
  t: { after(fn: () => Promise<void>): void },
): Promise<{ api: FakeApi; handler: TelegramLogHandler; captured: Captured }> {
  const api = await FakeApi.start(responder);
  const handler = new TelegramLogHandler(TELEGRAM_TOKEN, CHAT, { apiBase: api.origin, ...FAST, ...options });
  const captured = capture(handler);
  t.after(async () => {
    // A test that timed close() out has asserted on its error already.
    await rejection(handler.close());
    await api.close();
  });
  return { api, handler, captured };
}

function texts(api: FakeApi): string[] {
  return api.requests.filter((r) => r.url === METHOD_PATH).map((r) => r.json!.text as string);
}

test("validates token, chat id and apiBase without echoing the token", () => {
  for (const bad of [`${TELEGRAM_TOKEN} `, `x${TELEGRAM_TOKEN}`, TELEGRAM_TOKEN.replace(":", "/")]) {
    assert.throws(
      () => new TelegramLogHandler(bad, CHAT),
      (error: unknown) =>
        error instanceof InvalidConfigError &&
        error.field === "botToken" &&
        !error.message.includes(TELEGRAM_TOKEN.split(":")[1]!),
    );
  }
  assert.throws(() => new TelegramLogHandler(TELEGRAM_TOKEN, "not a chat"), /Invalid chatId/);
  assert.throws(
    () => new TelegramLogHandler(TELEGRAM_TOKEN, CHAT, { apiBase: "ftp://x" }),
    /Invalid apiBase/,
  );
  const handler = new TelegramLogHandler(TELEGRAM_TOKEN, "@ops_alerts");
  assert.ok(handler.secrets().includes(TELEGRAM_TOKEN));
  assert.equal(handler.level, LogLevel.WARNING);
});

test("splits at 4096 characters on line boundaries; every line arrives in order", async (t) => {
  const { api, handler } = await setup(telegramLike(), {}, t);
  const messages = Array.from({ length: 400 }, (_, i) => `event ${i} ${"k".repeat((i * 53) % 200)}`);
  messages.push(`huge ${"é".repeat(9000)}`);
  messages.push("tail");
  handler.push(messages.map((m) => record(m)));
  await eventually(() => handler.stats.sentLines === messages.length, 5000, "all lines sent");
  const sent = texts(api);
  for (const text of sent) assert.ok(text.length <= 4096, `message of ${text.length}`);
  const expected = messages.map((m) => `ERROR ${m}`);
  assert.equal(sent.join("").replaceAll("\n", ""), expected.join("").replaceAll("\n", ""));
  const received = linesOf(sent);
  let at = 0;
  for (const line of expected.filter((l) => l.length <= 4096)) {
    at = received.indexOf(line, at);
    assert.ok(at >= 0, `missing or out of order: ${line.slice(0, 30)}`);
  }
  const body = api.requests[0]!.json!;
  assert.equal(body.chat_id, CHAT);
  assert.equal(body.parse_mode, undefined, "plain text: log lines are not parsed as markup");
});

test("429 waits parameters.retry_after seconds, then resends; nothing lost", async (t) => {
  const ok = telegramLike();
  const { api, handler } = await setup(
    (request) =>
      request.index === 0
        ? failure(429, "Too Many Requests: retry after 1", { retry_after: 1 })
        : ok(request),
    {},
    t,
  );
  handler.push([record("x1"), record("x2")]);
  await api.waitForRequests(2, 5000);
  const gap = api.requests[1]!.at - api.requests[0]!.at;
  assert.ok(gap >= 1000, `resent after ${gap.toFixed(0)} ms`);
  await eventually(() => handler.stats.sentLines === 2);
  assert.equal(handler.stats.rateLimited, 1);
  assert.deepEqual(linesOf(texts(api).slice(1)), ["ERROR x1", "ERROR x2"]);
});

test("paces requests to one per minIntervalMs and so collects no 429 from a per-chat limit", async (t) => {
  // The limiter's window is a little shorter than the pacing interval: requests are paced when sent,
  // and the network may bring two of them closer together by the time they arrive.
  const { api, handler } = await setup(
    telegramLike(new WindowLimiter(1, 80)),
    { minIntervalMs: 100, burst: 1 },
    t,
  );
  for (let i = 0; i < 4; i++) handler.push([record(`${i} ${"p".repeat(4080)}`)]);
  await eventually(() => handler.stats.sentLines === 4, 5000, "all sent");
  assert.equal(handler.stats.rateLimited, 0);
  for (let i = 1; i < api.requests.length; i++) {
    const gap = api.requests[i]!.at - api.requests[i - 1]!.at;
    assert.ok(gap >= 80, `gap ${gap.toFixed(1)} ms`);
  }
});

test("5xx bursts are retried and then delivered once", async (t) => {
  const ok = telegramLike();
  const { api, handler } = await setup(
    (request) => (request.index < 2 ? failure(502, "Bad Gateway") : ok(request)),
    { retryBaseMs: 10 },
    t,
  );
  handler.push([record("r1"), record("r2")]);
  await eventually(() => handler.stats.sentLines === 2);
  assert.equal(api.requests.length, 3);
  assert.equal(handler.stats.retries, 2);
  assert.deepEqual(linesOf(texts(api).slice(2)), ["ERROR r1", "ERROR r2"]);
});

test("follows a group's migration to a supergroup (migrate_to_chat_id)", async (t) => {
  const ok = telegramLike();
  const { api, handler, captured } = await setup(
    (request) =>
      request.index === 0
        ? failure(400, "Bad Request: group chat was upgraded to a supergroup chat", {
            migrate_to_chat_id: -1009,
          })
        : ok(request),
    {},
    t,
  );
  handler.push([record("moved")]);
  await eventually(() => handler.stats.sentLines === 1);
  assert.equal(api.requests[1]!.json!.chat_id, -1009);
  assert.equal(handler.chatId, -1009);
  assert.ok(captured.warnings.some((w) => w.includes("-1009")));
});

test("a hanging Bot API never slows push(); close() gives up on time and reports the unsent lines", async (t) => {
  const { api, handler, captured } = await setup(
    () => "hang",
    { requestTimeoutMs: 60_000, closeTimeoutMs: 250 },
    t,
  );
  const started = performance.now();
  assert.equal(handler.push(Array.from({ length: 500 }, (_, i) => record(`h${i}`))), undefined);
  assert.ok(performance.now() - started < 100);
  await api.waitForRequests(1);
  const closing = performance.now();
  const closeError = await rejection(handler.close());
  const closeMs = performance.now() - closing;
  assert.ok(closeMs >= 240 && closeMs < 1500, `close took ${closeMs.toFixed(0)} ms`);
  assert.equal(handler.stats.failedLines, 500);
  assert.ok(
    closeError instanceof HandlerError && closeError.message.includes("500 lines unsent"),
    String(closeError),
  );
  for (const e of [...captured.errors, String(closeError)]) assert.ok(!e.includes(TELEGRAM_TOKEN));
});

for (const [status, description] of [
  [401, "Unauthorized"],
  [403, "Forbidden: bot was blocked by the user"],
] as const) {
  test(`HTTP ${status} (${description}) stops the handler`, async (t) => {
    const { api, handler, captured } = await setup(() => failure(status, description), {}, t);
    handler.push([record("a")]);
    await eventually(() => handler.stats.stopped);
    handler.push([record("b")]);
    await handler.close();
    assert.equal(api.requests.length, 1);
    assert.equal(handler.stats.failedLines, 2);
    assert.match(captured.errors.join("\n"), new RegExp(`HTTP ${status}: ${description}.*stops sending`));
  });
}

test("a flood of 10k ERROR records in one second stays within the rate; delivered + suppressed = 10k", async (t) => {
  const intervalMs = 50;
  const { api, handler, captured } = await setup(
    telegramLike(new WindowLimiter(1, intervalMs * 0.8)),
    { minIntervalMs: intervalMs, burst: 1, maxQueueLines: 300, lingerMs: 20 },
    t,
  );
  const started = performance.now();
  for (let batch = 0; batch < 100; batch++) {
    handler.push(Array.from({ length: 100 }, (_, i) => record(`flood ${batch * 100 + i}`)));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  await eventually(() => handler.stats.sentLines + handler.stats.suppressedLines === 10_000, 5000, "drained");
  const elapsed = performance.now() - started;
  const stats = handler.stats;
  assert.equal(stats.failedLines, 0);
  assert.equal(stats.rateLimited, 0);
  assert.ok(
    api.requests.length <= 1 + Math.ceil(elapsed / intervalMs) + 1,
    `${api.requests.length} requests`,
  );
  const lines = linesOf(texts(api));
  assert.equal(lines.filter((l) => l.startsWith("ERROR flood ")).length, stats.sentLines);
  const announced = lines
    .filter((l) => l.startsWith("… "))
    .reduce((sum, l) => sum + Number(/… ([\d,]+)/.exec(l)![1]!.replaceAll(",", "")), 0);
  assert.equal(announced, stats.suppressedLines);
  assert.ok(captured.warnings.length > 0);
});

test("no secret appears in anything a failing handler writes or reports", async () => {
  const { stdout, stderr, code } = await runSecretsChild("telegram");
  const output = stdout + stderr;
  assert.equal(code, 0, output);
  for (const secret of ALL_SECRETS) assert.ok(!output.includes(secret), `secret leaked:\n${output}`);
  assert.match(stdout, /Invalid botToken/);
  assert.match(stderr, /HTTP 500/);
  assert.match(stderr, /HTTP 404.*stops sending/);
  assert.match(stderr, /HTTP 400: Bad Request: something/);
  assert.match(stderr, /ECONNREFUSED/);
});
