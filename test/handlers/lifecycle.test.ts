// The lifecycle contract, one set of cases over every built-in handler against real peers (a temp
// file, a stream, local HTTP servers, a TCP server and a UDP socket): close twice, push after
// close, close while a push is pending, and close against a peer that never answers.
import assert from "node:assert/strict";
import { createSocket } from "node:dgram";
import { mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { describe, type TestContext, test } from "node:test";
import { ClosedError, HandlerError } from "../../src/errors.js";
import { type BaseLogHandler, kPushBatches } from "../../src/handlers/base.js";
import { DiscordLogHandler } from "../../src/handlers/chat/discord.js";
import { SlackLogHandler } from "../../src/handlers/chat/slack.js";
import { TelegramLogHandler } from "../../src/handlers/chat/telegram.js";
import { ConsoleLogHandler } from "../../src/handlers/console.js";
import { FileLogHandler } from "../../src/handlers/file.js";
import { OtlpLogHandler } from "../../src/handlers/otlp/handler.js";
import { SyslogLogHandler } from "../../src/handlers/syslog/handler.js";
import { LogLevel } from "../../src/levels.js";
import { decodeBatch } from "../../src/protocol/decoder.js";
import { BatchBuilder } from "../../src/protocol/encoder.js";
import type { RecordBatch } from "../../src/protocol/record-batch.js";
import { capture, FakeApi, type Responder, record, rejection } from "../helpers/fake-api.js";
import { DISCORD_TOKEN, DISCORD_WEBHOOK_ID, SLACK_PATH, TELEGRAM_TOKEN } from "../helpers/secrets.js";

/** How much later than closeTimeoutMs a timed-out close() may settle (loaded CI machines). */
const CLOSE_MARGIN_MS = 1000;
const CLOSE_TIMEOUT_MS = 200;
const RECORDS = 20;

/** A peer: what it has received so far, counted in records. */
interface Peer {
  received(): number;
  /** Resolves once `count` arrived, where delivery may trail close() (a datagram on its way). */
  arrived?(count: number): Promise<void>;
}

interface Rig {
  readonly handler: BaseLogHandler;
  readonly peer: Peer;
  /** True once the handler's file descriptor, socket or stream listener is really gone. */
  released(): boolean | Promise<boolean>;
}

interface Subject {
  readonly name: string;
  /** A handler whose peer answers (slowly enough that a push is still pending when close() runs). */
  open(t: TestContext): Promise<Rig>;
  /** A handler whose peer never answers; a string says why there is no such peer. */
  stuck: ((t: TestContext) => Promise<BaseLogHandler>) | string;
}

function batchOf(count: number): RecordBatch {
  const builder = new BatchBuilder(64 * 1024);
  for (let i = 0; i < count; i++) builder.append(LogLevel.ERROR, `lifecycle ${i}`, undefined);
  return decodeBatch(Buffer.from(builder.seal(1)), { name: "w", nameBytes: Buffer.from("w"), pid: 1 }).batch;
}

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "logmux-lifecycle-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** File descriptors of this process open on `path`, from /proc (Linux). */
function fdsOn(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {}
  }
  return count;
}

async function fakeApi(t: TestContext, reply: Responder): Promise<FakeApi> {
  const api = await FakeApi.start(reply);
  t.after(() => api.close());
  return api;
}

/** Lines of every chat message received. */
function chatLines(api: FakeApi, field: string): number {
  return api.requests.reduce(
    (n, r) =>
      n +
      String(r.json?.[field] ?? "")
        .split("\n")
        .filter(Boolean).length,
    0,
  );
}

const chatFast = { minIntervalMs: 0, lingerMs: 50, retryBaseMs: 5, closeTimeoutMs: CLOSE_TIMEOUT_MS };

function chat(
  name: string,
  field: string,
  ok: () => { status: number; body?: unknown },
  build: (origin: string, options: typeof chatFast) => BaseLogHandler,
): Subject {
  return {
    name,
    async open(t) {
      const api = await fakeApi(t, () => ok());
      const handler = build(api.origin, { ...chatFast, closeTimeoutMs: 5000 });
      capture(handler);
      return { handler, peer: { received: () => chatLines(api, field) }, released: () => true };
    },
    stuck: async (t) => {
      const api = await fakeApi(t, () => "hang");
      const handler = build(api.origin, chatFast);
      capture(handler);
      return handler;
    },
  };
}

const SUBJECTS: Subject[] = [
  {
    name: "FileLogHandler",
    async open(t) {
      const path = join(tempDir(t), "app.log");
      // sync: false, so that a push is a pending write when close() runs.
      const handler = new FileLogHandler(path, { sync: false, format: "%(message)s" });
      assert.equal(fdsOn(path), 1, "the handler holds the file open");
      return {
        handler,
        peer: { received: () => readFileSync(path, "utf8").split("\n").filter(Boolean).length },
        released: () => fdsOn(path) === 0,
      };
    },
    stuck:
      "a local file has no peer that can make close() time out: a refused write gets one last attempt " +
      "at close and is given up (file-retry.test.ts), and a file that blocks would block the test too",
  },
  {
    name: "ConsoleLogHandler",
    async open() {
      let lines = 0;
      const stream = new Writable({
        highWaterMark: 16,
        write(chunk: Buffer, _encoding, callback) {
          lines += chunk.toString().split("\n").filter(Boolean).length;
          // A slow terminal: the push stays pending until 'drain'.
          setTimeout(callback, 30);
        },
      });
      const handler = new ConsoleLogHandler({ stream, format: "%(message)s" });
      return {
        handler,
        peer: { received: () => lines },
        released: () => stream.listenerCount("error") === 0 && stream.listenerCount("drain") === 0,
      };
    },
    stuck: async () => {
      // A stream that takes the first write and never calls back: it never drains.
      const stream = new Writable({ highWaterMark: 16, write() {} });
      return new ConsoleLogHandler({ stream, closeTimeoutMs: CLOSE_TIMEOUT_MS });
    },
  },
  chat(
    "DiscordLogHandler",
    "content",
    () => ({ status: 204 }),
    (origin, options) =>
      new DiscordLogHandler(`${origin}/api/webhooks/${DISCORD_WEBHOOK_ID}/${DISCORD_TOKEN}`, {
        ...options,
        baseUrl: `${origin}/api/webhooks/`,
      }),
  ),
  chat(
    "SlackLogHandler",
    "text",
    () => ({ status: 200, body: "ok" }),
    (origin, options) =>
      new SlackLogHandler(`${origin}/services/${SLACK_PATH}`, { ...options, baseUrl: `${origin}/services/` }),
  ),
  chat(
    "TelegramLogHandler",
    "text",
    () => ({ status: 200, body: { ok: true, result: {} } }),
    (origin, options) => new TelegramLogHandler(TELEGRAM_TOKEN, 4242, { ...options, apiBase: origin }),
  ),
  {
    name: "OtlpLogHandler",
    async open(t) {
      const api = await fakeApi(t, () => ({ status: 200, body: {} }));
      // JSON, so that the fake API can count the records in the bodies it parses.
      const handler = new OtlpLogHandler({
        url: `${api.origin}/v1/logs`,
        retryMinMs: 5,
        protocol: "http/json",
      });
      capture(handler);
      const received = (): number =>
        api.requests.reduce((n, r) => n + JSON.stringify(r.json).split('"timeUnixNano"').length - 1, 0);
      return { handler, peer: { received }, released: () => true };
    },
    stuck: async (t) => {
      const api = await fakeApi(t, () => "hang");
      const handler = new OtlpLogHandler({ url: `${api.origin}/v1/logs`, closeTimeoutMs: CLOSE_TIMEOUT_MS });
      capture(handler);
      return handler;
    },
  },
  {
    name: "SyslogLogHandler (tcp)",
    async open(t) {
      const server = await tcpServer(t, true);
      const handler = new SyslogLogHandler({ port: server.port, settleMs: 0 });
      capture(handler);
      return {
        handler,
        peer: { received: () => server.received() },
        // The server saw our connection end, after close() half-closed and it answered.
        released: () => server.open() === 0,
      };
    },
    stuck: async (t) => {
      // Takes the bytes but never ends its side: the half-close is never confirmed.
      const server = await tcpServer(t, false);
      const handler = new SyslogLogHandler({ port: server.port, closeTimeoutMs: CLOSE_TIMEOUT_MS });
      capture(handler);
      return handler;
    },
  },
  {
    name: "SyslogLogHandler (udp)",
    async open(t) {
      const socket = createSocket("udp4");
      let received = 0;
      socket.on("message", () => received++);
      await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", resolve));
      t.after(() => socket.close());
      const handler = new SyslogLogHandler({ transport: "udp", port: socket.address().port });
      capture(handler);
      return {
        handler,
        peer: {
          received: () => received,
          // Datagrams may still be on their way when close() settles: wait for them, by event.
          arrived: (count) =>
            new Promise<void>((resolve) => {
              const check = (): void => {
                if (received < count) return;
                socket.off("message", check);
                resolve();
              };
              socket.on("message", check);
              check();
            }),
        },
        // Not observable from outside: Node keeps listing a closed dgram socket among active
        // resources, and the datagrams' arrival says nothing about the sender's socket. The TCP
        // case checks that a syslog socket really closes.
        released: () => true,
      };
    },
    stuck: "UDP is fire-and-forget: nothing can keep a datagram from being handed to the kernel",
  },
];

/** A TCP server reading RFC 6587 octet-counted frames; `answerEnd` ends its side when we do. */
async function tcpServer(
  t: TestContext,
  answerEnd: boolean,
): Promise<{ port: number; received(): number; open(): number }> {
  let frames = 0;
  const sockets = new Set<Socket>();
  const server = createServer({ allowHalfOpen: true }, (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let buffered = Buffer.alloc(0);
    socket.on("data", (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const space = buffered.indexOf(0x20);
        if (space < 0) break;
        const length = Number(buffered.subarray(0, space).toString("latin1"));
        if (buffered.length < space + 1 + length) break;
        frames++;
        buffered = buffered.subarray(space + 1 + length);
      }
    });
    if (answerEnd) socket.on("end", () => socket.end());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  t.after(() => {
    for (const socket of sockets) socket.destroy();
    server.close();
  });
  const address = server.address();
  return {
    port: typeof address === "object" && address !== null ? address.port : 0,
    received: () => frames,
    open: () => sockets.size,
  };
}

function isClosedError(handler: BaseLogHandler): (error: unknown) => boolean {
  return (error) =>
    error instanceof ClosedError &&
    error.code === "LOGMUX_CLOSED" &&
    error.message === `${handler.label} is closed`;
}

/** Timers and handles alive now, by type. */
function activeResources(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const type of process.getActiveResourcesInfo()) counts.set(type, (counts.get(type) ?? 0) + 1);
  return counts;
}

for (const subject of SUBJECTS) {
  describe(`${subject.name} lifecycle`, () => {
    test("close twice: the same promise, both settle, state closed, resources released", async (t) => {
      const { handler, released } = await subject.open(t);
      assert.equal(handler.state, "open");
      const first = handler.close();
      const second = handler.close();
      assert.equal(first, second);
      assert.equal(handler.state, "closing");
      await Promise.all([first, second]);
      await handler.closed;
      assert.equal(handler.state, "closed");
      assert.equal(await released(), true);
      assert.equal(handler.close(), first, "a third call after settling is still the same promise");
    });

    test("push after close throws ClosedError and writes nothing", async (t) => {
      const { handler, peer } = await subject.open(t);
      const closing = handler.close();
      // Already while closing, and again once closed.
      assert.throws(() => handler[kPushBatches]([batchOf(1)], LogLevel.TRACE), isClosedError(handler));
      await closing;
      assert.throws(() => handler[kPushBatches]([batchOf(1)], LogLevel.TRACE), isClosedError(handler));
      assert.throws(() => handler.push([record("after close")]), isClosedError(handler));
      assert.equal(peer.received(), 0);
    });

    test("close while a push is pending waits for it, and its records are delivered", async (t) => {
      const { handler, peer, released } = await subject.open(t);
      const pushed = handler[kPushBatches]([batchOf(RECORDS)], LogLevel.TRACE);
      await handler.close();
      await pushed;
      assert.equal(handler.state, "closed");
      assert.equal(await released(), true);
      await peer.arrived?.(RECORDS);
      assert.equal(peer.received(), RECORDS);
    });

    test("close against a peer that never answers settles on time, names the handler, leaves nothing alive", async (t) => {
      if (typeof subject.stuck === "string") {
        t.skip(subject.stuck);
        return;
      }
      const before = activeResources();
      const handler = await subject.stuck(t);
      void handler[kPushBatches]([batchOf(RECORDS)], LogLevel.TRACE);
      const started = performance.now();
      const error = await rejection(handler.close());
      const tookMs = performance.now() - started;
      assert.ok(
        tookMs >= CLOSE_TIMEOUT_MS - 5,
        `close settled after ${tookMs.toFixed(0)} ms, before its timeout`,
      );
      assert.ok(tookMs < CLOSE_TIMEOUT_MS + CLOSE_MARGIN_MS, `close took ${tookMs.toFixed(0)} ms`);
      assert.ok(error instanceof HandlerError, String(error));
      assert.equal(error.handler, handler.label);
      assert.match(error.message, /close gave up after \d+ ms \(closeTimeoutMs 200 ms\)/);
      assert.equal(handler.state, "closed");
      await handler.closed;
      // No timer of the handler's outlives close(): at most what was alive before it existed.
      const after = activeResources();
      assert.ok((after.get("Timeout") ?? 0) <= (before.get("Timeout") ?? 0), JSON.stringify([...after]));
    });
  });
}
