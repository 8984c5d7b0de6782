import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { test } from "node:test";
import {
  DiscordLogHandler,
  FileLogHandler,
  LoggerConfig,
  MasterLogger,
  WorkerLogger,
} from "../../../src/index.js";
import { eventually, FakeApi } from "../../helpers/fake-api.js";
import { DISCORD_TOKEN, DISCORD_WEBHOOK_ID } from "../../helpers/secrets.js";

test("a Discord webhook that never answers does not delay the file next to it", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "logmux-net-"));
  const api = await FakeApi.start(() => "hang");
  const logPath = join(dir, "app.log");
  const discord = new DiscordLogHandler(`${api.origin}/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`, {
    baseUrl: `${api.origin}/api/webhooks/`,
    lingerMs: 0,
    requestTimeoutMs: 60_000,
    closeTimeoutMs: 300,
  });
  const file = new FileLogHandler(logPath, { format: "%(name)s %(levelname)s %(message)s" });
  const config = new LoggerConfig({
    path: `ipc://${join(dir, "log.sock")}`,
    flushIntervalMs: 20,
    handleSignals: false,
  });
  const master = new MasterLogger(config, [file, discord]);
  const worker = new WorkerLogger(config, "web");
  t.after(async () => {
    await worker.shutdown();
    await master.shutdown();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await master.ready();

  const count = 300;
  const started = performance.now();
  for (let i = 0; i < count; i++) worker.error(`record ${i}`);
  const lines = (): string[] =>
    readFileSync(logPath, "utf8")
      .split("\n")
      .filter((l) => l.startsWith("web ERROR record "));
  await eventually(() => lines().length === count, 3000, "every record in the file");
  const elapsed = performance.now() - started;
  assert.deepEqual(
    lines(),
    Array.from({ length: count }, (_, i) => `web ERROR record ${i}`),
  );
  // Discord was really in play, and stuck: it holds a request open while the file keeps up.
  await api.waitForRequests(1);
  assert.equal(discord.stats.sentMessages, 0);
  assert.ok(elapsed < 2000, `file took ${elapsed.toFixed(0)} ms`);

  await worker.shutdown();
  const closing = performance.now();
  await master.shutdown();
  assert.ok(performance.now() - closing < 3000, "shutdown waits at most the handler's closeTimeoutMs");
  assert.equal(discord.stats.sentLines, 0);
  assert.ok(discord.stats.failedLines + discord.stats.suppressedLines >= count);
});

test("a chat message renders a record's fields and error as the text format does", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "logmux-net-"));
  const api = await FakeApi.start(() => ({ status: 204 }));
  const discord = new DiscordLogHandler(`${api.origin}/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`, {
    baseUrl: `${api.origin}/api/webhooks/`,
    lingerMs: 0,
    format: "%(levelname)s %(message)s",
  });
  const config = new LoggerConfig({
    path: `ipc://${join(dir, "log.sock")}`,
    flushIntervalMs: 20,
    handleSignals: false,
  });
  const master = new MasterLogger(config, [discord]);
  const worker = new WorkerLogger(config, "web");
  t.after(async () => {
    await worker.shutdown();
    await master.shutdown();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  });
  await master.ready();
  const err = Object.assign(new Error("card declined"), { code: "E_CARD" });
  worker.child({ reqId: "r-1" }).error("payment %s failed", "A-17", err, { orderId: 7 });
  await api.waitForRequests(1);
  const content = api.requests[0]!.json!.content as string;
  const lines = content.split("\n");
  assert.ok(
    lines.some((l) => l.includes('ERROR payment A-17 failed reqId=r-1 err="Error: card declined" orderId=7')),
    content,
  );
  assert.ok(
    lines.some((l) => /^ {4}Error: card declined$/.test(l)),
    content,
  );
  assert.ok(
    lines.some((l) => /^ {8}at /.test(l)),
    content,
  );
  assert.ok(lines.includes("    code: E_CARD"), content);
});
