import assert from "node:assert/strict";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import { HandlerError, InvalidConfigError } from "../../../src/errors.js";
import { SlackLogHandler, type SlackLogHandlerOptions } from "../../../src/handlers/chat/slack.js";
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
  SLACK_PATH,
  SLACK_SECRET,
  secretPieces,
} from "../../helpers/secrets.js";
import { runSecretsChild } from "../../helpers/secrets-child.js";

const HOOK_PATH = `/services/${SLACK_PATH}`;

/** Answers like an incoming webhook: 200 "ok", text errors, 429 with Retry-After (seconds). */
function slackLike(limiter = new WindowLimiter(1000, 1000)): (request: FakeRequest) => Reply {
  return (request): Reply => {
    if (request.url !== HOOK_PATH) return { status: 404, body: "no_service" };
    const text = request.json?.text;
    if (typeof text !== "string" || text === "") return { status: 400, body: "no_text" };
    if (text.length > 40_000) return { status: 400, body: "invalid_payload" };
    const slot = limiter.take();
    if (!slot.allowed) {
      return {
        status: 429,
        headers: { "retry-after": String(Math.ceil(slot.resetAfterMs / 1000)) },
        body: "rate_limited",
      };
    }
    return { status: 200, headers: { "content-type": "text/html" }, body: "ok" };
  };
}

const FAST: SlackLogHandlerOptions = { minIntervalMs: 0, lingerMs: 5, retryBaseMs: 5, closeTimeoutMs: 3000 };

async function setup(
  responder: (request: FakeRequest) => Reply | "hang",
  options: SlackLogHandlerOptions,
  t: { after(fn: () => Promise<void>): void },
): Promise<{ api: FakeApi; handler: SlackLogHandler; captured: Captured }> {
  const api = await FakeApi.start(responder);
  const handler = new SlackLogHandler(`${api.origin}${HOOK_PATH}`, {
    baseUrl: `${api.origin}/services/`,
    ...FAST,
    ...options,
  });
  const captured = capture(handler);
  t.after(async () => {
    // A test that timed close() out has asserted on its error already.
    await rejection(handler.close());
    await api.close();
  });
  return { api, handler, captured };
}

function texts(api: FakeApi): string[] {
  return api.requests.filter((r) => r.url === HOOK_PATH).map((r) => r.json!.text as string);
}

function unescapeSlack(text: string): string {
  return text.replaceAll("&lt;", "<").replaceAll("&gt;", ">").replaceAll("&amp;", "&");
}

test("accepts only hooks.slack.com webhook URLs (or an explicit base) and never echoes the secret", () => {
  const good = `https://hooks.slack.com/services/${SLACK_PATH}`;
  const handler = new SlackLogHandler(good);
  assert.ok(handler.secrets().includes(SLACK_SECRET));
  assert.equal(handler.level, LogLevel.WARNING);
  for (const bad of [
    good.replace("hooks.slack.com", "hooks.evil.example"),
    good.replace("https:", "http:"),
    `x ${good}`,
  ]) {
    assert.throws(
      () => new SlackLogHandler(bad),
      (error: unknown) =>
        error instanceof InvalidConfigError &&
        error.field === "webhookUrl" &&
        /hooks\.slack\.com\/services/.test(error.message) &&
        !error.message.includes(SLACK_SECRET),
    );
  }
});

test("splits at 4000 characters, escapes &, < and > as Slack requires, and keeps every line in order", async (t) => {
  const { api, handler } = await setup(slackLike(), {}, t);
  const messages = Array.from(
    { length: 300 },
    (_, i) => `job ${i} <!channel> a&b ${">".repeat((i * 31) % 120)}`,
  );
  messages.push(`big ${"&".repeat(6000)}`);
  handler.push(messages.map((m) => record(m)));
  await eventually(() => handler.stats.sentLines === messages.length, 5000, "all sent");
  const sent = texts(api);
  for (const text of sent) {
    assert.ok(text.length <= 4000, `message of ${text.length}`);
    assert.ok(!/[<>]/.test(text), "unescaped angle bracket");
    // Every & starts a complete escape: no escape was cut in half.
    assert.ok(!/&(?!amp;|lt;|gt;)/.test(text), "broken escape");
  }
  const expected = messages.map((m) => `ERROR ${m}`);
  assert.equal(unescapeSlack(sent.join("").replaceAll("\n", "")), expected.join(""));
  const received = linesOf(sent).map(unescapeSlack);
  let at = 0;
  for (const line of expected.slice(0, 300)) {
    at = received.indexOf(line, at);
    assert.ok(at >= 0, `missing or out of order: ${line}`);
  }
});

test("429 waits Retry-After seconds, then resends; nothing lost", async (t) => {
  const ok = slackLike();
  const { api, handler } = await setup(
    (request) =>
      request.index === 0
        ? { status: 429, headers: { "retry-after": "1" }, body: "rate_limited" }
        : ok(request),
    {},
    t,
  );
  handler.push([record("s1"), record("s2")]);
  await api.waitForRequests(2, 5000);
  const gap = api.requests[1]!.at - api.requests[0]!.at;
  assert.ok(gap >= 1000, `resent after ${gap.toFixed(0)} ms`);
  await eventually(() => handler.stats.sentLines === 2);
  assert.deepEqual(linesOf(texts(api).slice(1)), ["ERROR s1", "ERROR s2"]);
});

test("5xx bursts are retried with backoff, then delivered once", async (t) => {
  const ok = slackLike();
  const { api, handler } = await setup(
    (request) => (request.index < 3 ? { status: 500, body: "internal_error" } : ok(request)),
    { retryBaseMs: 10 },
    t,
  );
  handler.push([record("e")]);
  await eventually(() => handler.stats.sentLines === 1);
  assert.equal(api.requests.length, 4);
  assert.equal(handler.stats.retries, 3);
});

test("a non-retryable 400 drops that message only and is reported", async (t) => {
  const ok = slackLike();
  const { api, handler, captured } = await setup(
    (request) => (request.index === 0 ? { status: 400, body: "invalid_payload" } : ok(request)),
    { lingerMs: 0 },
    t,
  );
  handler.push([record("bad")]);
  await eventually(() => handler.stats.failedLines === 1);
  handler.push([record("good")]);
  await eventually(() => handler.stats.sentLines === 1);
  assert.equal(api.requests.length, 2);
  assert.match(captured.errors.join("\n"), /HTTP 400: invalid_payload/);
});

for (const status of [400, 410]) {
  // 410 has its own verdict in the Slack handler; 400 goes through the shared one.
  test(`an HTTP ${status} body with the secret across the report's cut is redacted before it is cut`, async (t) => {
    const body = bodyWithSecretAcross(SLACK_SECRET, MAX_REPORTED_BODY_CHARS);
    const { handler, captured } = await setup(() => ({ status, body }), { lingerMs: 0 }, t);
    handler.push([record("refused")]);
    await eventually(() => handler.stats.failedLines === 1);
    const reported = captured.errors.join("\n");
    assert.deepEqual(secretPieces(reported, SLACK_SECRET), []);
    assert.match(reported, new RegExp(`HTTP ${status}: e+\\[REDACTED\\]`));
  });
}

test("a hanging webhook never slows push(); close() gives up on time and reports the unsent lines", async (t) => {
  const { api, handler, captured } = await setup(
    () => "hang",
    { requestTimeoutMs: 60_000, closeTimeoutMs: 250 },
    t,
  );
  const started = performance.now();
  assert.equal(handler.push(Array.from({ length: 200 }, (_, i) => record(`h${i}`))), undefined);
  assert.ok(performance.now() - started < 100);
  await api.waitForRequests(1);
  const closing = performance.now();
  const closeError = await rejection(handler.close());
  const closeMs = performance.now() - closing;
  assert.ok(closeMs >= 240 && closeMs < 1500, `close took ${closeMs.toFixed(0)} ms`);
  assert.ok(
    closeError instanceof HandlerError && closeError.message.includes("200 lines unsent"),
    String(closeError),
  );
  // The loss is said once, by the rejection the master reports, not also through reportError.
  assert.ok(!captured.errors.some((e) => e.includes("unsent")), captured.errors.join("\n"));
});

for (const [status, body] of [
  [404, "no_service"],
  [410, "channel_is_archived"],
  [403, "action_prohibited"],
] as const) {
  test(`HTTP ${status} ${body} stops the handler`, async (t) => {
    const { api, handler, captured } = await setup(() => ({ status, body }), {}, t);
    handler.push([record("a")]);
    await eventually(() => handler.stats.stopped);
    handler.push([record("b")]);
    await handler.close();
    assert.equal(api.requests.length, 1);
    assert.equal(handler.stats.failedLines, 2);
    assert.match(captured.errors.join("\n"), new RegExp(`HTTP ${status}: ${body}.*stops sending`));
  });
}

test("a flood of 10k ERROR records in one second stays within the rate; delivered + suppressed = 10k", async (t) => {
  const intervalMs = 40;
  const burst = 3;
  const { api, handler } = await setup(
    slackLike(),
    { minIntervalMs: intervalMs, burst, maxQueueLines: 250, lingerMs: 20 },
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
  assert.ok(
    api.requests.length <= burst + Math.ceil(elapsed / intervalMs) + 1,
    `${api.requests.length} requests`,
  );
  // Within any window of intervalMs * 5, at most burst + 5 requests.
  const times = api.requests.map((r) => r.at);
  for (let i = 0; i < times.length; i++) {
    const inWindow = times.filter((x) => x >= times[i]! && x < times[i]! + intervalMs * 5).length;
    assert.ok(inWindow <= burst + 5, `${inWindow} requests within ${intervalMs * 5} ms`);
  }
  const lines = linesOf(texts(api));
  assert.equal(lines.filter((l) => l.startsWith("ERROR flood ")).length, stats.sentLines);
  const announced = lines
    .filter((l) => l.startsWith("… "))
    .reduce((sum, l) => sum + Number(/… ([\d,]+)/.exec(l)![1]!.replaceAll(",", "")), 0);
  assert.equal(announced, stats.suppressedLines);
});

test("no secret appears in anything a failing handler writes or reports", async () => {
  const { stdout, stderr, code } = await runSecretsChild("slack");
  const output = stdout + stderr;
  assert.equal(code, 0, output);
  for (const secret of ALL_SECRETS) assert.ok(!output.includes(secret), `secret leaked:\n${output}`);
  assert.match(stdout, /Invalid webhookUrl/);
  assert.match(stderr, /HTTP 500/);
  assert.match(stderr, /HTTP 404.*stops sending/);
  assert.match(stderr, /ECONNREFUSED/);
});
