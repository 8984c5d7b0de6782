// One worker of `logmux demo`, forked by src/cli/demo.ts. It logs a realistic mix of records at
// the given rate (or, in the burst phase, as fast as it can) and talks to the demo over the fork
// IPC channel:
//   demo -> worker: { type: "burst" } log as fast as it can until told to stop
//                   { type: "stop" }  stop logging, shut the logger down, report
//                                     { type: "done", sent, burst } (burst: records logged in the burst)
//                   { type: "flush" } stop logging, flush to the socket, report { type: "flushed", sent }
//   worker -> demo: { type: "progress", sent } before each group of records is logged
// The count goes out before the records it counts, and they are logged only once it is written to
// the pipe: the demo runs the master, so it always has a worker's count before the master can have
// received what it counts, and its view never shows a worker with more records received than sent.
import { LoggerConfig } from "../config.js";
import { WorkerLogger } from "../worker/worker.js";

export interface DemoWorkerOptions {
  path: string;
  name: string;
  /** Records per second. */
  rate: number;
  heartbeatIntervalMs: number;
  flushIntervalMs: number;
  seed: number;
}

const options = JSON.parse(process.argv[2] ?? "{}") as DemoWorkerOptions;
const log = new WorkerLogger(
  new LoggerConfig({
    path: options.path,
    baseLevel: "DEBUG",
    heartbeatIntervalMs: options.heartbeatIntervalMs,
    flushIntervalMs: options.flushIntervalMs,
    // The demo decides when workers stop: Ctrl-C in a terminal reaches the whole process group,
    // and this worker must keep running until the demo tells it to shut down.
    handleSignals: false,
  }),
  options.name,
);
process.on("SIGINT", () => {});

// A small deterministic PRNG (mulberry32), so each worker's mix differs but runs are repeatable.
let state = options.seed >>> 0;
function random(): number {
  state = (state + 0x6d2b79f5) >>> 0;
  let t = state;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
const int = (min: number, max: number): number => min + Math.floor(random() * (max - min + 1));

const requests = log.child({ component: "http" });
const auth = log.child({ component: "auth" });

const ROUTES = ["/api/orders", "/api/cart", "/api/users", "/api/search", "/api/inventory"];

function logOne(): void {
  const roll = random();
  if (roll < 0.12) {
    log.debug(
      pick([
        `cache hit orders:${int(1000, 9999)}`,
        `db pool: ${int(1, 20)}/20 connections in use`,
        `feature flag checkout_v2=${random() < 0.5 ? "on" : "off"} for user ${int(1, 5000)}`,
      ]),
    );
  } else if (roll < 0.9) {
    // The shapes an application writes (docs/fields.md): fields first (pino's order) or last,
    // %-arguments, a child logger's bindings.
    const route = pick(ROUTES);
    switch (int(0, 3)) {
      case 0:
        log.info(
          { reqId: `r-${int(1, 99999)}`, status: 200, ms: int(2, 80) },
          "GET %s/%d",
          route,
          int(1, 99999),
        );
        break;
      case 1:
        requests.child({ reqId: `r-${int(1, 99999)}` }).info("POST %s 201", route, { ms: int(10, 200) });
        break;
      case 2:
        auth.info("user signed in", { userId: int(1, 5000), plan: pick(["free", "pro", "team"]) });
        break;
      default:
        log.info("job completed", { jobId: int(1, 99999), ms: int(20, 900) });
    }
  } else if (roll < 0.98) {
    log.warning(
      pick([
        `slow query on orders took ${int(500, 3000)}ms`,
        `upstream inventory-service answered in ${int(600, 2000)}ms (budget 500ms)`,
        `client ${int(1, 300)} used ${int(80, 99)}% of its rate limit`,
      ]),
    );
  } else {
    const order = int(100000, 999999);
    const payload = { orderId: order, amountCents: int(500, 50000), gateway: "card", code: "card_declined" };
    const err = Object.assign(new Error("card declined", { cause: new Error("issuer said no") }), {
      code: "card_declined",
    });
    log.error("payment for order %d failed", order, err, Buffer.from(JSON.stringify(payload)));
  }
}

/** Records announced to the demo; every one of them is logged before the next announcement. */
let sent = 0;
let stopping = false;
let sending = false;

/**
 * The burst's record: the end-to-end benchmark's line, a new string per call as its loop builds it,
 * so the figure the demo shows compares with pino's from the same benchmark (docs/benchmarks.md,
 * section 2), not the steady phase's heavier mix of fields, errors and attachments.
 */
let burstLine = 0;
function logBenchLine(): void {
  log.info(`request handled: GET /api/items/${burstLine++} status=200 in 3.1ms`);
}

/** Announces `sent + count`, then logs `count` records (`one` each) once the announcement is on the pipe. */
function logAnnounced(count: number, then?: () => void, one: () => void = logOne): void {
  if (count <= 0 || stopping || sending) return;
  sending = true;
  const total = sent + count;
  const proceed = (): void => {
    sending = false;
    // A stop or flush that arrived meanwhile was answered with the count sent so far.
    if (stopping) return;
    for (let i = 0; i < count; i++) one();
    sent = total;
    then?.();
  };
  if (process.send === undefined) proceed();
  else process.send({ type: "progress", sent: total }, proceed);
}

const started = performance.now();
/** Steady phase: each tick logs what the rate says is due since the start. */
const TICK_MS = 20;
const ticker = setInterval(() => {
  logAnnounced(Math.floor(((performance.now() - started) / 1000) * options.rate) - sent);
}, TICK_MS);

/**
 * Burst phase: chunks of calls back to back, yielding to the event loop between them (as the
 * benchmark's workers do) so that the logger's socket writes and the demo's messages get a turn.
 */
const BURST_CHUNK = 1000;
let burstSent = 0;
function burst(): void {
  logAnnounced(
    BURST_CHUNK,
    () => {
      burstSent += BURST_CHUNK;
      setImmediate(burst);
    },
    logBenchLine,
  );
}

function stopLogging(): void {
  stopping = true;
  clearInterval(ticker);
}

process.on("message", (message: { type?: string }) => {
  if (message?.type === "burst" && !stopping) {
    clearInterval(ticker);
    burst();
  } else if (message?.type === "flush" && !stopping) {
    stopLogging();
    log.flush().then(() => process.send?.({ type: "flushed", sent }));
  } else if (message?.type === "stop") {
    stopLogging();
    log.shutdown().then(() => {
      // Disconnect only once the message is written: closing the pipe earlier can cancel it.
      process.send?.({ type: "done", sent, burst: burstSent }, () => process.disconnect?.());
    });
  }
});

// The demo went away without telling us (it was killed): do not linger.
process.on("disconnect", () => {
  stopLogging();
  log.shutdown().then(() => process.exit(0));
});
