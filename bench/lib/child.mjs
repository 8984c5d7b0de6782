// The child side of bench/lib/proc.mjs: parameters, messages, failure reporting.
import { monitorEventLoopDelay } from "node:perf_hooks";

export const params = JSON.parse(process.argv[2] ?? "{}");

/** Sends a message to the orchestrator; resolves once it is handed to the IPC channel. */
export function send(message) {
  return new Promise((resolve) => {
    if (!process.connected) resolve();
    else process.send(message, undefined, undefined, () => resolve());
  });
}

const inbox = [];
const waiters = [];
process.on("message", (message) => {
  const i = waiters.findIndex((w) => w.type === message?.type);
  if (i >= 0) waiters.splice(i, 1)[0].resolve(message);
  else inbox.push(message);
});
// The orchestrator going away means the run is over: never linger as an orphan.
process.on("disconnect", () => process.exit(2));

export function nextMessage(type) {
  const i = inbox.findIndex((m) => m?.type === type);
  if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
  return new Promise((resolve) => waiters.push({ type, resolve }));
}

/** Runs `main()`, reporting any failure as `{ type: "error" }`, and exits when it is done. */
export function runChild(main) {
  main().then(
    async () => {
      process.exit(0);
    },
    async (error) => {
      await send({ type: "error", message: error?.stack ?? String(error) });
      process.exit(1);
    },
  );
}

/** Peak RSS tracker: sample() at convenient points, or start() a timer. */
export class RssTracker {
  peak = process.memoryUsage.rss();
  #timer;
  sample() {
    const rss = process.memoryUsage.rss();
    if (rss > this.peak) this.peak = rss;
    return rss;
  }
  start(intervalMs = 100) {
    this.#timer = setInterval(() => this.sample(), intervalMs);
    this.#timer.unref();
    return this;
  }
  stop() {
    clearInterval(this.#timer);
    this.sample();
    return this.peak;
  }
}

export function cpuMicros() {
  const { user, system } = process.cpuUsage();
  return user + system;
}

export const yieldToEventLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * What a master process reports about itself over a measured run: event-loop delay
 * (monitorEventLoopDelay, 1 ms resolution), memory samples and CPU time since `reset()`.
 */
export class MasterProbe {
  #delay = monitorEventLoopDelay({ resolution: 1 });
  #startedAt = performance.now();
  #cpuAtStart = cpuMicros();
  #samples = [];
  #timer;

  constructor(intervalMs) {
    this.#delay.enable();
    this.#timer = setInterval(() => {
      const { rss, heapUsed, external, arrayBuffers } = process.memoryUsage();
      this.#samples.push({ t: performance.now() - this.#startedAt, rss, heapUsed, external, arrayBuffers });
    }, intervalMs);
  }

  reset() {
    this.#delay.reset();
    this.#startedAt = performance.now();
    this.#cpuAtStart = cpuMicros();
    this.#samples = [];
  }

  stop() {
    clearInterval(this.#timer);
    this.#delay.disable();
    const ms = (ns) => ns / 1e6;
    const d = this.#delay;
    return {
      wallMs: performance.now() - this.#startedAt,
      cpuMicros: cpuMicros() - this.#cpuAtStart,
      delay: { p50: ms(d.percentile(50)), p99: ms(d.percentile(99)), max: ms(d.max), mean: ms(d.mean) },
      rssSamples: this.#samples,
      rssPeak: Math.max(0, ...this.#samples.map((s) => s.rss)),
    };
  }
}
