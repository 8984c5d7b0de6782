// A real Prometheus server scrapes the master's endpoint while real workers log, and its query API
// must return exactly the counts the workers sent: the peer's own parser and storage, not ours.
import assert from "node:assert/strict";
import { statSync } from "node:fs";
import { join } from "node:path";
import { it } from "node:test";
import { FileLogHandler, LoggerConfig, type LoggerConfigOptions, MasterLogger } from "../../src/index.js";
import { freePort } from "../handlers/syslog/helpers.js";
import { CollectHandler } from "../helpers/collect.js";
import { exited, forkFixture, nextMessage, tempDir } from "../helpers/processes.js";
import { byLabel, havePrometheusTool, PrometheusServer, type VectorSample } from "../helpers/prometheus.js";

/** Prometheus scrapes on its own 1 s timer: its query answers change only then, so poll them. */
async function queryUntil(
  prometheus: PrometheusServer,
  expression: string,
  ok: (samples: VectorSample[]) => boolean,
  timeoutMs = 30_000,
): Promise<VectorSample[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const samples = await prometheus.query(expression);
    if (ok(samples)) return samples;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out waiting for ${expression}; last answer ${JSON.stringify(samples)}; targets ${JSON.stringify(await prometheus.targets())}; prometheus stderr:\n${prometheus.stderr}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

function sameCounts(actual: Map<string, number>, expected: Map<string, number>): boolean {
  return actual.size === expected.size && [...expected].every(([key, value]) => actual.get(key) === value);
}

it("a real Prometheus server scrapes the master and its query API returns the exact counts", async (t) => {
  if (!havePrometheusTool(t, "prometheus")) return;
  const dir = tempDir(t);
  // Prometheus runs as whoever runs the tests (root on CI) in this private directory.
  assert.equal(statSync(dir).mode & 0o777, 0o700);
  const options: LoggerConfigOptions = { path: `ipc://${join(dir, "log.sock")}`, flushIntervalMs: 20 };
  const collect = new CollectHandler();
  const master = new MasterLogger(
    new LoggerConfig(options),
    [collect, new FileLogHandler(join(dir, "app.log"))],
    {
      metrics: { port: 0 },
    },
  );
  t.after(() => master.shutdown());
  await master.ready();
  const address = master.metricsAddress()!;
  const prometheus = new PrometheusServer(
    t,
    join(dir, "prometheus"),
    await freePort(),
    `127.0.0.1:${address.port}`,
  );
  await prometheus.ready();

  // An awkward name as well: Prometheus must read back exactly the name the worker gave.
  const awkward = 'job "nightly"\\batch\n2';
  const expected = new Map([
    ["api-1", 300],
    ["api-2", 200],
    [awkward, 50],
  ]);
  const workers = [...expected].map(([name, count]) =>
    forkFixture(t, "worker.js", { config: options, name, count, chunk: 25 }),
  );
  await Promise.all(workers.map((child) => nextMessage(child, "done")));
  await Promise.all(workers.map((child) => exited(child)));

  const received = await queryUntil(prometheus, "logmux_records_received_total", (samples) =>
    sameCounts(byLabel(samples, "worker"), expected),
  );
  for (const sample of received) {
    assert.equal(sample.metric.job, "logmux");
    assert.equal(sample.metric.instance, `127.0.0.1:${address.port}`);
  }
  // Both handlers took every record (the master's own included), and Prometheus saw the same.
  const total = collect.records.length;
  assert.equal(collect.fromWorkers().length, 550);
  const handlers = new Map([
    ["CollectHandler", total],
    [`FileLogHandler(${join(dir, "app.log")})`, total],
  ]);
  await queryUntil(prometheus, "logmux_handler_records_written_total", (samples) =>
    sameCounts(byLabel(samples, "handler"), handlers),
  );
  await queryUntil(prometheus, "logmux_workers", (samples) =>
    sameCounts(
      byLabel(samples, "state"),
      new Map([
        ["connected", 0],
        ["unresponsive", 0],
        ["disconnected", 0],
        ["shutdown", 3],
      ]),
    ),
  );
  const up = await prometheus.query('up{job="logmux"}');
  assert.deepEqual(
    up.map((sample) => sample.value[1]),
    ["1"],
  );
  const [target] = await prometheus.targets();
  assert.equal(target?.health, "up");
  assert.equal(target?.lastError, "");
  assert.equal(target?.scrapeUrl, address.url);
  await prometheus.stop();
});
