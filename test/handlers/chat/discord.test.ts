import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { HandlerError, InvalidConfigError } from "../../../src/errors.js";
import { DiscordLogHandler, type DiscordLogHandlerOptions } from "../../../src/handlers/chat/discord.js";
import { MAX_REPORTED_BODY_CHARS } from "../../../src/handlers/kit/reported-body.js";
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
import {
  ALL_SECRETS,
  bodyWithSecretAcross,
  DISCORD_TOKEN,
  DISCORD_WEBHOOK_ID,
  secretPieces,
} from "../../helpers/secrets.js";
import { runSecretsChild } from "../../helpers/secrets-child.js";

const WEBHOOK_PATH = `/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Answers like Discord's Execute Webhook: 204, X-RateLimit-* headers, 429 body, 400 on long content. */
function discordLike(limiter = new WindowLimiter(1000, 1000)): (request: FakeRequest) => Reply {
  return (request) => {
    if (request.method !== "POST" || !request.url.startsWith(WEBHOOK_PATH)) {
      return { status: 404, body: { message: "Unknown Webhook", code: 10015 } };
    }
    const content = request.json?.content;
    if (typeof content !== "string" || content.length === 0 || content.length > 2000) {
      return { status: 400, body: { message: "Invalid Form Body", code: 50035 } };
    }
    const slot = limiter.take();
    const headers = {
      "x-ratelimit-limit": String(limiter.limit),
      "x-ratelimit-remaining": String(slot.remaining),
      "x-ratelimit-reset-after": (Math.ceil(slot.resetAfterMs) / 1000).toFixed(3),
      "x-ratelimit-bucket": "f3c1e2",
    };
    if (!slot.allowed) {
      return {
        status: 429,
        headers: {
          ...headers,
          "retry-after": String(Math.ceil(slot.resetAfterMs / 1000)),
          "x-ratelimit-scope": "user",
        },
        body: {
          message: "You are being rate limited.",
          retry_after: slot.resetAfterMs / 1000,
          global: false,
        },
      };
    }
    return { status: 204, headers };
  };
}

const FAST: DiscordLogHandlerOptions = {
  minIntervalMs: 0,
  lingerMs: 5,
  retryBaseMs: 5,
  closeTimeoutMs: 3000,
};

async function setup(
  responder: (request: FakeRequest) => Reply | "hang",
  options: DiscordLogHandlerOptions = {},
  t: { after(fn: () => Promise<void>): void },
): Promise<{ api: FakeApi; handler: DiscordLogHandler; captured: Captured }> {
  const api = await FakeApi.start(responder);
  const handler = new DiscordLogHandler(`${api.origin}${WEBHOOK_PATH}`, {
    baseUrl: `${api.origin}/api/webhooks/`,
    ...FAST,
    ...options,
  });
  const captured = capture(handler);
  // Runs even when an assertion fails: the handler first (it may hold requests open), then the server.
  t.after(async () => {
    // A test that timed close() out has asserted on its error already.
    await rejection(handler.close());
    await api.close();
  });
  return { api, handler, captured };
}

function contents(api: FakeApi): string[] {
  return api.requests
    .filter((r) => typeof r.json?.content === "string")
    .map((r) => r.json!.content as string);
}

test("accepts only Discord webhook URLs (or an explicit base) and never echoes the token", () => {
  const good = `https://discord.com/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`;
  assert.ok(new DiscordLogHandler(good));
  assert.ok(new DiscordLogHandler(good.replace("discord.com", "discordapp.com")));
  assert.ok(
    new DiscordLogHandler(`https://discord.com/api/v10/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`),
  );
  for (const bad of [
    good.replace("discord.com", "evil.example"),
    good.replace("https:", "http:"),
    `http://127.0.0.1:8080/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`,
    `not a url ${DISCORD_TOKEN}`,
  ]) {
    assert.throws(
      () => new DiscordLogHandler(bad),
      (error: unknown) => {
        assert.ok(error instanceof InvalidConfigError);
        assert.equal(error.field, "webhookUrl");
        assert.match(error.message, /discord\.com\/api\/webhooks/);
        assert.ok(!error.message.includes(DISCORD_TOKEN), error.message);
        return true;
      },
    );
  }
  const handler = new DiscordLogHandler(good);
  assert.ok(handler.secrets().includes(DISCORD_TOKEN));
  assert.ok(handler.secrets().includes(good));
  assert.equal(handler.level, LogLevel.WARNING);
});

test("packs lines into messages of at most 2000 characters, in order, splitting only what must be split", async (t) => {
  const { api, handler } = await setup(discordLike(), {}, t);
  const messages: string[] = [];
  for (let i = 0; i < 300; i++) messages.push(`line ${i} ${"x".repeat((i * 37) % 150)}`);
  // One line far over the limit, with surrogate pairs straddling every possible cut point...
  messages.push(`long ${"😀".repeat(2600)}`);
  // ...and one multi-line record longer than a message, which is cut at its own newlines.
  messages.push(Array.from({ length: 60 }, (_, i) => `trace ${i} ${"y".repeat(60)}`).join("\n"));
  messages.push("last line");
  handler.push(messages.map((m) => record(m)));
  const expected = messages.map((m) => `ERROR ${m}`);
  const total = expected.join("\n");
  await eventually(() => handler.stats.sentLines === messages.length, 5000, "all lines sent");

  const texts = contents(api);
  for (const text of texts) {
    assert.ok(text.length <= 2000, `message of ${text.length} characters`);
    assert.ok(!LONE_SURROGATE.test(text), "a surrogate pair was split");
  }
  // Cuts add message boundaries but lose nothing and reorder nothing.
  assert.equal(texts.join("").replaceAll("\n", ""), total.replaceAll("\n", ""));
  const received = linesOf(texts);
  let at = 0;
  for (const line of expected.filter((l) => l.length <= 2000 && !l.includes("\n"))) {
    at = received.indexOf(line, at);
    assert.ok(at >= 0, `line missing or out of order: ${line.slice(0, 40)}`);
  }
  // Whole lines are never broken across messages when they fit in one.
  assert.ok(texts.length <= Math.ceil(total.length / 1900) + 2, `${texts.length} messages`);
  assert.deepEqual(api.requests[0]!.json!.allowed_mentions, { parse: [] });
  assert.equal(handler.stats.failedLines, 0);
});

test("code-block styling keeps the fences within 2000 characters and neutralises fences in lines", async (t) => {
  const { api, handler } = await setup(discordLike(), { codeBlock: true }, t);
  const messages = Array.from({ length: 100 }, (_, i) => `entry ${i} ${"z".repeat(90)}`);
  messages.push("has ``` a fence");
  handler.push(messages.map((m) => record(m)));
  await eventually(() => handler.stats.sentLines === messages.length, 5000, "all lines sent");
  const texts = contents(api);
  assert.ok(texts.length >= 6);
  for (const text of texts) {
    assert.ok(text.length <= 2000, `message of ${text.length} characters`);
    assert.ok(text.startsWith("```\n") && text.endsWith("\n```"));
    assert.equal(text.split("```").length, 3, "exactly one pair of fences");
  }
});

test("a 429 is waited out for the body's retry_after, then the same message goes through", async (t) => {
  let calls = 0;
  const ok = discordLike();
  const { api, handler } = await setup(
    (request) => {
      calls++;
      if (calls === 1) {
        return {
          status: 429,
          headers: { "retry-after": "1", "x-ratelimit-scope": "shared" },
          body: { message: "You are being rate limited.", retry_after: 0.3, global: false },
        };
      }
      return ok(request);
    },
    {},
    t,
  );
  handler.push([record("first"), record("second")]);
  await api.waitForRequests(2);
  const [limited, retried] = api.requests as [FakeRequest, FakeRequest];
  const gap = retried.at - limited.at;
  assert.ok(gap >= 300, `retried after ${gap.toFixed(1)} ms, before retry_after`);
  // The fractional body value is used, not the whole-second header.
  assert.ok(gap < 900, `retried after ${gap.toFixed(1)} ms`);
  assert.equal(retried.body, limited.body);
  await eventually(() => handler.stats.sentLines === 2);
  assert.equal(handler.stats.rateLimited, 1);
  assert.deepEqual(linesOf(contents(api).slice(1)), ["ERROR first", "ERROR second"]);
});

test("a spent bucket (X-RateLimit-Remaining 0) is waited out before the next request, with no 429", async (t) => {
  const limiter = new WindowLimiter(2, 250);
  const { api, handler } = await setup(discordLike(limiter), { burst: 10 }, t);
  for (let i = 0; i < 4; i++) {
    handler.push([record(`burst ${i} ${"w".repeat(1980)}`)]);
  }
  await eventually(() => handler.stats.sentLines === 4, 5000, "all sent");
  assert.equal(handler.stats.rateLimited, 0);
  assert.ok(api.requests.every((r) => r.index < 4));
  const third = api.requests[2]!;
  assert.ok(third.at - api.requests[0]!.at >= 250, "third request inside the spent window");
});

test("5xx bursts are retried with backoff and nothing is lost or duplicated", async (t) => {
  const ok = discordLike();
  const statuses = [503, 500, 502];
  const { api, handler } = await setup(
    (request) => {
      const status = statuses[request.index];
      return status === undefined ? ok(request) : { status, body: "bad gateway" };
    },
    { retryBaseMs: 10 },
    t,
  );
  handler.push([record("a"), record("b"), record("c")]);
  await eventually(() => handler.stats.sentLines === 3);
  assert.equal(api.requests.length, 4);
  assert.equal(handler.stats.retries, 3);
  assert.equal(new Set(api.requests.map((r) => r.body)).size, 1, "the same message was resent");
  // Backoff grows: base 10 ms doubling, at least half of each step.
  assert.ok(api.requests[3]!.at - api.requests[0]!.at >= 5 + 10 + 20);
  assert.deepEqual(linesOf(contents(api).slice(3)), ["ERROR a", "ERROR b", "ERROR c"]);
});

test("a hanging endpoint never slows push(), and close() gives up on time reporting the unsent lines", async (t) => {
  const { api, handler, captured } = await setup(
    () => "hang",
    { requestTimeoutMs: 60_000, closeTimeoutMs: 300 },
    t,
  );
  const records = Array.from({ length: 1000 }, (_, i) => record(`stuck ${i}`));
  const started = performance.now();
  const result = handler.push(records);
  const pushMs = performance.now() - started;
  assert.equal(result, undefined, "push() returns synchronously");
  assert.ok(pushMs < 100, `push took ${pushMs.toFixed(1)} ms`);
  await api.waitForRequests(1);
  assert.equal(handler.push([record("more")]), undefined);
  const closing = performance.now();
  const closeError = await rejection(handler.close());
  const closeMs = performance.now() - closing;
  assert.ok(closeMs >= 290 && closeMs < 1500, `close took ${closeMs.toFixed(1)} ms`);
  assert.equal(handler.stats.failedLines, 1001);
  assert.equal(handler.stats.sentLines, 0);
  assert.ok(
    closeError instanceof HandlerError && closeError.message.includes("1,001 lines unsent"),
    String(closeError),
  );
  // The loss is said once, by the rejection the master reports, not also through reportError.
  assert.ok(!captured.errors.some((e) => e.includes("unsent")), captured.errors.join("\n"));
  assert.equal(await rejection(handler.close()), closeError, "idempotent: the same promise");
});

for (const status of [401, 404]) {
  test(`HTTP ${status} stops the handler: no further requests, the loss is reported`, async (t) => {
    const { api, handler, captured } = await setup(
      () => ({
        status,
        body: { message: status === 404 ? "Unknown Webhook" : "401: Unauthorized", code: 0 },
      }),
      {},
      t,
    );
    handler.push([record("one"), record("two")]);
    await eventually(() => handler.stats.stopped, 5000, "stopped");
    handler.push([record("three")]);
    await handler.close();
    assert.equal(api.requests.length, 1);
    assert.equal(handler.stats.failedLines, 3);
    assert.equal(captured.errors.length, 1);
    assert.match(captured.errors[0]!, new RegExp(`HTTP ${status}.*stops sending`));
    assert.ok(!captured.errors[0]!.includes(DISCORD_TOKEN));
  });
}

test("a flood of 10k ERROR records in one second: rate kept, every line delivered or counted as suppressed", async (t) => {
  const intervalMs = 40;
  const burst = 3;
  const limiter = new WindowLimiter(5, 200);
  const { api, handler, captured } = await setup(
    discordLike(limiter),
    { minIntervalMs: intervalMs, burst, maxQueueLines: 200, lingerMs: 20 },
    t,
  );
  const started = performance.now();
  for (let batch = 0; batch < 100; batch++) {
    handler.push(Array.from({ length: 100 }, (_, i) => record(`flood ${batch * 100 + i}`)));
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  const floodMs = performance.now() - started;
  await eventually(
    () => handler.stats.sentLines + handler.stats.suppressedLines === 10_000,
    5000,
    "queue drained",
  );
  const elapsed = performance.now() - started;
  const stats = handler.stats;
  assert.equal(stats.acceptedLines, 10_000);
  assert.equal(stats.failedLines, 0);
  assert.ok(stats.suppressedLines > 0);
  assert.equal(stats.rateLimited, 0, "the headers kept it under the bucket: no 429");
  assert.ok(
    api.requests.length <= burst + Math.ceil(elapsed / intervalMs) + 1,
    `${api.requests.length} requests in ${elapsed.toFixed(0)} ms (flood ${floodMs.toFixed(0)} ms)`,
  );
  const lines = linesOf(contents(api));
  const summaries = lines.filter((l) => l.startsWith("… "));
  const delivered = lines.filter((l) => l.startsWith("ERROR flood "));
  assert.equal(delivered.length, stats.sentLines);
  const announced = summaries.reduce(
    (sum, l) => sum + Number(/… ([\d,]+)/.exec(l)![1]!.replaceAll(",", "")),
    0,
  );
  assert.equal(announced, stats.suppressedLines);
  const reported = captured.warnings.reduce(
    (sum, w) => sum + Number(/suppressed ([\d,]+)/.exec(w)![1]!.replaceAll(",", "")),
    0,
  );
  assert.equal(reported, stats.suppressedLines);
  const order = delivered.map((l) => Number(l.slice("ERROR flood ".length)));
  assert.ok(
    order.every((n, i) => i === 0 || n > order[i - 1]!),
    "lines out of order",
  );
});

test("an error body with the token across the report's cut is redacted before it is cut", async (t) => {
  // A proxy that echoes the request URL in its error page puts the token wherever it falls.
  const body = bodyWithSecretAcross(DISCORD_TOKEN, MAX_REPORTED_BODY_CHARS);
  const { handler, captured } = await setup(() => ({ status: 400, body }), { lingerMs: 0 }, t);
  handler.push([record("refused")]);
  await eventually(() => handler.stats.failedLines === 1);
  const reported = captured.errors.join("\n");
  assert.deepEqual(secretPieces(reported, DISCORD_TOKEN), []);
  assert.match(reported, /HTTP 400: e+\[REDACTED\]/);
});

test("records below WARNING are not sent by default", async (t) => {
  const { api, handler } = await setup(discordLike(), {}, t);
  // The master filters by handler.level; this checks the default it filters with.
  assert.equal(handler.level, LogLevel.WARNING);
  handler.push([record("warned", LogLevel.WARNING)]);
  await api.waitForRequests(1);
  assert.deepEqual(contents(api), ["WARNING warned"]);
});

test("no secret appears in anything a failing handler writes or reports", async () => {
  const { stdout, stderr, code } = await runSecretsChild("discord");
  const output = stdout + stderr;
  assert.equal(code, 0, output);
  for (const secret of ALL_SECRETS) assert.ok(!output.includes(secret), `secret leaked:\n${output}`);
  assert.ok(!output.includes(encodeURIComponent(DISCORD_TOKEN)));
  // The failures were reported (so the check above is not vacuous).
  assert.match(stdout, /config error: InvalidConfigError: Invalid webhookUrl/);
  assert.match(stderr, /HTTP 500/);
  assert.match(stderr, /HTTP 404.*stops sending/);
  assert.match(stderr, /HTTP 400/);
  assert.match(stderr, /requestTimeoutMs/);
  assert.match(stderr, /ECONNREFUSED/);
});
