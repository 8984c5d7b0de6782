// The master's Prometheus endpoint over real HTTP, with real forked workers: exact counts, label
// escaping and cardinality, handler labels without secrets, gauges that move with a stall, and
// promtool (the real one) accepting every body.
import assert from "node:assert/strict";
import { createServer as createHttpServer } from "node:http";
import { createConnection, createServer } from "node:net";
import { join } from "node:path";
import { describe, it, type TestContext } from "node:test";
import {
  BaseLogHandler,
  DiscordLogHandler,
  FileLogHandler,
  InvalidConfigError,
  ListenFailedError,
  LoggerConfig,
  type LoggerConfigOptions,
  type LogRecord,
  MasterLogger,
  type MasterLoggerOptions,
  SlackLogHandler,
  TelegramLogHandler,
  WorkerLogger,
} from "../../src/index.js";
import { CollectHandler } from "../helpers/collect.js";
import { rawFrame, T } from "../helpers/frames.js";
import { exited, forkFixture, nextMessage, tempDir } from "../helpers/processes.js";
import { assertPromtoolAccepts, havePrometheusTool, scrape } from "../helpers/prometheus.js";
import {
  ALL_SECRETS,
  DISCORD_TOKEN,
  DISCORD_WEBHOOK_ID,
  SLACK_PATH,
  TELEGRAM_TOKEN,
} from "../helpers/secrets.js";

interface Rig {
  options: LoggerConfigOptions;
  master: MasterLogger;
  url: string;
  socketPath: string;
}

async function startMaster(
  t: TestContext,
  handlers: BaseLogHandler[],
  masterOptions: MasterLoggerOptions = {},
): Promise<Rig> {
  const dir = tempDir(t);
  const socketPath = join(dir, "log.sock");
  const options: LoggerConfigOptions = { path: `ipc://${socketPath}`, flushIntervalMs: 20 };
  const master = new MasterLogger(new LoggerConfig(options), handlers, {
    metrics: { port: 0 },
    ...masterOptions,
  });
  t.after(() => master.shutdown());
  await master.ready();
  const url = master.metricsAddress()?.url;
  assert.ok(url !== undefined, "metricsAddress() once ready");
  return { options, master, url, socketPath };
}

/** Forks a worker that logs `count` records and shuts down; resolves once it has exited. */
async function runWorker(t: TestContext, rig: Rig, name: string, count: number): Promise<void> {
  const child = forkFixture(t, "worker.js", { config: rig.options, name, count });
  await nextMessage(child, "done");
  await exited(child);
}

/** The body's sample lines of one metric family (no HELP/TYPE). */
function samplesOf(body: string, family: string): string[] {
  return body.split("\n").filter((line) => line.startsWith(`${family}{`) || line.startsWith(`${family} `));
}

async function scrapeAccepted(t: TestContext, url: string): Promise<string> {
  const { status, contentType, body } = await scrape(url);
  assert.equal(status, 200);
  assert.equal(contentType, "text/plain; version=0.0.4; charset=utf-8");
  if (havePrometheusTool(t, "promtool")) assertPromtoolAccepts(body);
  return body;
}

/** Scrapes until `ok` holds; for what the master does on its own timers, with a deadline. */
async function scrapeUntil(url: string, ok: (body: string) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const { body } = await scrape(url);
    if (ok(body)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${body}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A handler whose pushes wait until the test opens the gate: a stalled handler on demand. */
class GateHandler extends BaseLogHandler {
  readonly received: LogRecord[] = [];
  #open: () => void = () => {};
  readonly #gate = new Promise<void>((resolve) => {
    this.#open = resolve;
  });
  override get name(): string {
    return "GateHandler";
  }
  push(records: readonly LogRecord[]): Promise<void> {
    this.received.push(...records);
    return this.#gate;
  }
  open(): void {
    this.#open();
  }
}

class FailingHandler extends BaseLogHandler {
  pushes = 0;
  override get name(): string {
    return "FailingHandler";
  }
  push(): void {
    this.pushes++;
    throw new Error("this handler always fails");
  }
}

describe("metrics endpoint", () => {
  it("counts exactly per worker and per handler, escapes label values, and promtool accepts it", async (t) => {
    const collect = new CollectHandler();
    const dir = tempDir(t);
    const rig = await startMaster(t, [collect, new FileLogHandler(join(dir, "app.log"))]);
    // Backslash, double quote and line feed are the three characters the format escapes.
    const awkward = 'say "hi"\\now\nthen';
    await Promise.all([
      runWorker(t, rig, "api-1", 30),
      runWorker(t, rig, "api-2", 20),
      runWorker(t, rig, awkward, 10),
    ]);
    const body = await scrapeAccepted(t, rig.url);
    assert.deepEqual(samplesOf(body, "logmux_records_received_total").sort(), [
      'logmux_records_received_total{worker="api-1"} 30',
      'logmux_records_received_total{worker="api-2"} 20',
      'logmux_records_received_total{worker="say \\"hi\\"\\\\now\\nthen"} 10',
    ]);
    assert.match(body, /^# HELP logmux_records_received_total .+$/m);
    assert.match(body, /^# TYPE logmux_records_received_total counter$/m);
    assert.match(body, /^logmux_workers\{state="shutdown"\} 3$/m);
    assert.match(body, /^logmux_workers\{state="connected"\} 0$/m);
    // Every worker shut down with an acknowledgement: both handlers have settled every record.
    assert.equal(collect.fromWorkers().length, 60);
    const written = samplesOf(body, "logmux_handler_records_written_total");
    assert.deepEqual(written, [
      `logmux_handler_records_written_total{handler="CollectHandler"} ${collect.records.length}`,
      `logmux_handler_records_written_total{handler="FileLogHandler(${join(dir, "app.log")})"} ${collect.records.length}`,
    ]);
    assert.match(body, /^logmux_handler_queue_records\{handler="CollectHandler"\} 0$/m);
    assert.match(body, /^logmux_handler_stalled\{handler="CollectHandler"\} 0$/m);
    assert.match(body, /^logmux_protocol_errors_total\{reason="invalid_frame"\} 0$/m);
    assert.match(body, /^logmux_event_loop_delay_p99_seconds \d/m);
    assert.match(body, /^process_resident_memory_bytes [1-9]\d*$/m);
  });

  it('bounds worker-name cardinality: names beyond maxWorkerLabels count under worker="other"', async (t) => {
    const rig = await startMaster(t, [new CollectHandler()], { metrics: { port: 0, maxWorkerLabels: 2 } });
    // The first two names seen keep their own series, so these two run first, one after the other.
    await runWorker(t, rig, "first", 5);
    await runWorker(t, rig, "second", 6);
    // A worker actually named "other" lands in the shared series too, never a second one.
    await Promise.all([
      runWorker(t, rig, "third", 7),
      runWorker(t, rig, "fourth", 8),
      runWorker(t, rig, "other", 9),
    ]);
    await runWorker(t, rig, "first", 1);
    const body = await scrapeAccepted(t, rig.url);
    assert.deepEqual(samplesOf(body, "logmux_records_received_total"), [
      'logmux_records_received_total{worker="first"} 6',
      'logmux_records_received_total{worker="second"} 6',
      'logmux_records_received_total{worker="other"} 24',
    ]);
    assert.equal(samplesOf(body, "logmux_worker_records_dropped_total").length, 3);
    // The registry still knows each process; only the metric's label is bounded.
    assert.match(body, /^logmux_workers\{state="shutdown"\} 6$/m);
  });

  it("names chat handlers by their redacted labels: no token or webhook secret in the body", async (t) => {
    const api = createHttpServer((_request, response) => {
      response.setHeader("Content-Type", "application/json");
      response.end('{"ok":true,"result":{}}');
    });
    await new Promise<void>((resolve) => api.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => api.close(() => resolve())));
    const origin = `http://127.0.0.1:${(api.address() as { port: number }).port}`;
    const chat = { lingerMs: 0 };
    const handlers = [
      new DiscordLogHandler(`${origin}/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`, {
        ...chat,
        baseUrl: `${origin}/api/webhooks/`,
      }),
      new SlackLogHandler(`${origin}/services/${SLACK_PATH}`, { ...chat, baseUrl: `${origin}/services/` }),
      new TelegramLogHandler(TELEGRAM_TOKEN, 4242, { ...chat, apiBase: origin }),
      new DiscordLogHandler(`https://discord.com/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`, {
        level: "CRITICAL",
      }),
    ];
    const rig = await startMaster(t, handlers);
    const worker = new WorkerLogger(new LoggerConfig({ ...rig.options, handleSignals: false }), "alerts");
    worker.warning("the disk is filling up");
    await worker.shutdown();
    const body = await scrapeAccepted(t, rig.url);
    for (const secret of ALL_SECRETS) assert.ok(!body.includes(secret), `secret in metrics:\n${body}`);
    const written = samplesOf(body, "logmux_handler_records_written_total");
    assert.equal(written.length, 4);
    assert.match(
      written[0]!,
      /^logmux_handler_records_written_total\{handler="DiscordLogHandler\(.+\)"\} 1$/,
    );
    assert.match(written[1]!, /^logmux_handler_records_written_total\{handler="SlackLogHandler\(.+\)"\} 1$/);
    assert.match(
      written[2]!,
      /^logmux_handler_records_written_total\{handler="TelegramLogHandler\(chat 4242\)"\} 1$/,
    );
    assert.equal(
      written[3],
      `logmux_handler_records_written_total{handler="DiscordLogHandler(discord.com/api/webhooks/${DISCORD_WEBHOOK_ID}/…)"} 0`,
    );
  });

  it("shows a stalled handler's queue and a failing handler's records while it happens", async (t) => {
    const gate = new GateHandler();
    const failing = new FailingHandler();
    const rig = await startMaster(t, [gate, failing], { handlerStallMs: 200 });
    // Acknowledgements stop waiting for the gate once it stalls, so the worker can shut down.
    await runWorker(t, rig, "w", 50);
    // The stall is a timer inside the master (handlerStallMs): no event to await, so poll.
    const stalled = 'logmux_handler_stalled{handler="GateHandler"} 1';
    await scrapeUntil(rig.url, (text) => text.includes(stalled), "the gate handler to show as stalled");
    let body = await scrapeAccepted(t, rig.url);
    assert.ok(body.includes(stalled), body);
    assert.match(body, /^logmux_handler_queue_records\{handler="GateHandler"\} 50$/m);
    assert.match(body, /^logmux_handler_queue_bytes\{handler="GateHandler"\} [1-9]\d*$/m);
    assert.match(body, /^logmux_handler_records_written_total\{handler="GateHandler"\} 0$/m);
    assert.match(body, /^logmux_handler_records_failed_total\{handler="FailingHandler"\} 50$/m);
    assert.match(body, /^logmux_handler_records_written_total\{handler="FailingHandler"\} 0$/m);
    assert.match(
      body,
      new RegExp(`^logmux_handler_errors_total\\{handler="FailingHandler"\\} ${failing.pushes}$`, "m"),
    );
    assert.ok(failing.pushes >= 1);
    assert.match(body, /^logmux_handler_stalled\{handler="FailingHandler"\} 0$/m);

    gate.open();
    const done = 'logmux_handler_records_written_total{handler="GateHandler"} 50';
    await scrapeUntil(rig.url, (text) => text.includes(done), "the gate handler to write its queue");
    body = await scrapeAccepted(t, rig.url);
    assert.match(body, /^logmux_handler_stalled\{handler="GateHandler"\} 0$/m);
    assert.match(body, /^logmux_handler_queue_records\{handler="GateHandler"\} 0$/m);
    assert.match(body, /^logmux_handler_queue_bytes\{handler="GateHandler"\} 0$/m);
    assert.equal(gate.received.length, 50);
  });

  it("shows reading paused and the worker's spool while a healthy handler's queue is full", async (t) => {
    const gate = new GateHandler();
    // A long stall timeout keeps the gate "healthy": the master pauses reading instead of dropping.
    const rig = await startMaster(t, [gate], { maxQueueBytes: 64 * 1024, handlerStallMs: 600_000 });
    const count = 20_000;
    const child = forkFixture(t, "worker.js", {
      config: {
        ...rig.options,
        onBackpressure: "block",
        maxBacklogBytes: 256 * 1024,
        maxBatchBytes: 16 * 1024,
      },
      name: "spiller",
      count,
      chunk: 2000,
      messageBytes: 60,
    });
    // About 2 MB of records against 64 KiB of queue, the socket's buffers and a 256 KiB backlog:
    // by the time the log calls return, the overflow is in the spool (written synchronously).
    await nextMessage(child, "logged");
    let body = await scrapeAccepted(t, rig.url);
    assert.match(body, /^logmux_reading_paused 1$/m);
    assert.match(body, /^logmux_spool_files 1$/m);
    const spooled = Number(/^logmux_spool_bytes (\d+)$/m.exec(body)?.[1]);
    assert.ok(spooled > 256 * 1024, `spool bytes ${spooled}:\n${body}`);
    gate.open();
    await nextMessage(child, "done");
    await exited(child);
    body = await scrapeAccepted(t, rig.url);
    assert.match(body, /^logmux_reading_paused 0$/m);
    assert.match(body, /^logmux_spool_bytes 0$/m);
    assert.match(body, /^logmux_spool_files 0$/m);
    assert.match(body, new RegExp(`^logmux_records_received_total\\{worker="spiller"\\} ${count}$`, "m"));
    assert.equal(gate.received.length, count);
  });

  it("counts protocol errors by reason", async (t) => {
    const rig = await startMaster(t, [new CollectHandler()], { handshakeTimeoutMs: 100 });
    const closed = (socket: ReturnType<typeof createConnection>): Promise<void> =>
      new Promise((resolve) => socket.once("close", () => resolve()));
    // A BATCH before any HELLO breaks the protocol at once.
    const rude = createConnection(rig.socketPath);
    rude.on("error", () => {});
    rude.on("data", () => {});
    rude.write(rawFrame(T.BATCH, Buffer.alloc(8)));
    // One that says nothing is closed when the handshake times out.
    const silent = createConnection(rig.socketPath);
    silent.on("error", () => {});
    silent.on("data", () => {});
    await Promise.all([closed(rude), closed(silent)]);
    const body = await scrapeAccepted(t, rig.url);
    assert.deepEqual(samplesOf(body, "logmux_protocol_errors_total"), [
      'logmux_protocol_errors_total{reason="handshake_timeout"} 1',
      'logmux_protocol_errors_total{reason="frame_timeout"} 0',
      'logmux_protocol_errors_total{reason="truncated_frame"} 0',
      'logmux_protocol_errors_total{reason="invalid_frame"} 1',
      'logmux_protocol_errors_total{reason="internal"} 0',
    ]);
    assert.equal(rig.master.status().protocolErrors, 2);
  });

  it("answers only GET and HEAD on its path", async (t) => {
    const rig = await startMaster(t, [], { metrics: { port: 0, path: "/custom/metrics" } });
    assert.match(rig.url, /^http:\/\/127\.0\.0\.1:\d+\/custom\/metrics$/);
    const base = rig.url.slice(0, -"/custom/metrics".length);
    assert.equal((await fetch(`${base}/metrics`)).status, 404);
    const post = await fetch(rig.url, { method: "POST" });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get("allow"), "GET, HEAD");
    const head = await fetch(rig.url, { method: "HEAD" });
    assert.equal(head.status, 200);
    assert.equal(await head.text(), "");
    assert.ok(Number(head.headers.get("content-length")) > 0);
    await scrapeAccepted(t, rig.url);
  });

  it("stops serving when the master shuts down", async (t) => {
    const rig = await startMaster(t, []);
    await scrapeAccepted(t, rig.url);
    await rig.master.shutdown();
    await assert.rejects(fetch(rig.url), TypeError);
  });
});

describe("metrics options", () => {
  const config = (t: TestContext): LoggerConfig =>
    new LoggerConfig({ path: `ipc://${join(tempDir(t), "log.sock")}` });

  const refused: [string, unknown][] = [
    ["metrics", 9464],
    ["metrics", null],
    ["metrics.port", undefined],
    ["metrics.port", -1],
    ["metrics.port", 65_536],
    ["metrics.port", 80.5],
    ["metrics.port", "9464"],
  ];
  for (const [field, value] of refused) {
    it(`refuses ${field} = ${JSON.stringify(value)} at construction, naming the field`, (t) => {
      const metrics = field === "metrics" ? value : { port: value };
      assert.throws(
        () => new MasterLogger(config(t), [], { metrics } as MasterLoggerOptions),
        (error: unknown) => error instanceof InvalidConfigError && error.field === field,
      );
    });
  }
  const refusedFields: [string, object][] = [
    ["metrics.host", { port: 0, host: "" }],
    ["metrics.host", { port: 0, host: "a b" }],
    ["metrics.path", { port: 0, path: "metrics" }],
    ["metrics.path", { port: 0, path: "/metrics?x=1" }],
    ["metrics.maxWorkerLabels", { port: 0, maxWorkerLabels: 0 }],
    ["metrics.maxWorkerLabels", { port: 0, maxWorkerLabels: 1.5 }],
  ];
  for (const [field, metrics] of refusedFields) {
    it(`refuses ${JSON.stringify(metrics)}, naming ${field}`, (t) => {
      assert.throws(
        () => new MasterLogger(config(t), [], { metrics } as MasterLoggerOptions),
        (error: unknown) =>
          error instanceof InvalidConfigError && error.field === field && /expected/.test(error.message),
      );
    });
  }

  it("a port already in use makes ready() reject with ListenFailedError naming the address", async (t) => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    t.after(() => new Promise<void>((resolve) => holder.close(() => resolve())));
    const port = (holder.address() as { port: number }).port;
    const master = new MasterLogger(config(t), [], { metrics: { port } });
    t.after(() => master.shutdown());
    await assert.rejects(master.ready(), (error: unknown) => {
      assert.ok(error instanceof ListenFailedError);
      assert.equal(error.path, `http://127.0.0.1:${port}/metrics`);
      assert.match(
        error.message,
        new RegExp(`cannot serve metrics on 127\\.0\\.0\\.1:${port}: .*EADDRINUSE`),
      );
      return true;
    });
  });
});
