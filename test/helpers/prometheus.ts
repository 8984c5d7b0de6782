// The real Prometheus tools against the master's metrics endpoint: `promtool check metrics` for the
// exposition text, and a Prometheus server in a temp dir that scrapes it and answers queries.
import assert from "node:assert/strict";
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { TestContext } from "node:test";
import { exited } from "./processes.js";

/**
 * Whether `promtool` or `prometheus` is installed (Debian package prometheus); when not, the test
 * is skipped locally and fails on CI, which must run it (.ci/run installs the package).
 */
export function havePrometheusTool(t: TestContext, tool: "promtool" | "prometheus"): boolean {
  const found = spawnSync(tool, ["--version"], { encoding: "utf8" }).status === 0;
  if (found) return true;
  const hint = `${tool} not found (install it: apt-get install -y prometheus)`;
  if (process.env.CI) assert.fail(`${hint}; CI must run the metrics tests`);
  t.skip(hint);
  return false;
}

/** A scrape as Prometheus would make it: GET, the body as text. */
export async function scrape(url: string): Promise<{ status: number; contentType: string; body: string }> {
  const response = await fetch(url);
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    body: await response.text(),
  };
}

/**
 * Pipes `body` to `promtool check metrics`, which parses it with Prometheus's own parser and
 * lints names, types and HELP. Fails the test unless it exits 0 and reports nothing.
 */
export function assertPromtoolAccepts(body: string): void {
  const result = spawnSync("promtool", ["check", "metrics"], { input: body, encoding: "utf8" });
  assert.equal(result.error, undefined, `promtool could not run: ${String(result.error)}`);
  const output = `${result.stdout}${result.stderr}`;
  assert.equal(output, "", `promtool check metrics reported problems:\n${output}\nfor:\n${body}`);
  assert.equal(result.status, 0, `promtool check metrics exited ${result.status}`);
}

/** A sample of an instant vector, as the query API returns it. */
export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

/**
 * One Prometheus server in the foreground with its own config and TSDB under `dir`, on
 * 127.0.0.1:`port`, scraping `target` (host:port) every second. Killed after the test whatever
 * happens: a leaked server would keep CI waiting.
 */
export class PrometheusServer {
  readonly url: string;
  readonly #process: ChildProcess;
  #stderr = "";

  constructor(t: TestContext, dir: string, port: number, target: string, metricsPath = "/metrics") {
    this.url = `http://127.0.0.1:${port}`;
    const data = join(dir, "data");
    mkdirSync(data, { recursive: true });
    const config = join(dir, "prometheus.yml");
    // JSON is YAML: no hand-written indentation to get wrong.
    writeFileSync(
      config,
      JSON.stringify({
        global: { scrape_interval: "1s", scrape_timeout: "1s", evaluation_interval: "1s" },
        scrape_configs: [
          { job_name: "logmux", metrics_path: metricsPath, static_configs: [{ targets: [target] }] },
        ],
      }),
    );
    this.#process = spawn(
      "prometheus",
      [`--config.file=${config}`, `--storage.tsdb.path=${data}`, `--web.listen-address=127.0.0.1:${port}`],
      { stdio: ["ignore", "ignore", "pipe"] },
    );
    this.#process.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    t.after(async () => {
      if (this.#process.exitCode === null && this.#process.signalCode === null) {
        this.#process.kill("SIGKILL");
        await exited(this.#process);
      }
    });
  }

  get stderr(): string {
    return this.#stderr;
  }

  /** Resolves when Prometheus logs that it serves requests; rejects if it exits or takes too long. */
  ready(timeoutMs = 30_000): Promise<void> {
    const proc = this.#process;
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!this.#stderr.includes("Server is ready to receive web requests.")) return;
        cleanup();
        resolve();
      };
      const onExit = (): void => {
        cleanup();
        reject(new Error(`prometheus exited before it was ready:\n${this.#stderr}`));
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`prometheus was not ready within ${timeoutMs} ms:\n${this.#stderr}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        proc.stderr?.off("data", check);
        proc.off("exit", onExit);
      };
      proc.stderr?.on("data", check);
      proc.once("exit", onExit);
      check();
    });
  }

  /** An instant query through the HTTP API. */
  async query(expression: string): Promise<VectorSample[]> {
    const response = await fetch(`${this.url}/api/v1/query?query=${encodeURIComponent(expression)}`);
    const body = (await response.json()) as {
      status: string;
      error?: string;
      data?: { resultType: string; result: VectorSample[] };
    };
    assert.equal(body.status, "success", `query ${expression} failed: ${body.error}`);
    assert.equal(body.data?.resultType, "vector");
    return body.data.result;
  }

  /** The scrape targets' health as Prometheus reports it. */
  async targets(): Promise<{ health: string; lastError: string; scrapeUrl: string }[]> {
    const response = await fetch(`${this.url}/api/v1/targets`);
    const body = (await response.json()) as {
      data: { activeTargets: { health: string; lastError: string; scrapeUrl: string }[] };
    };
    return body.data.activeTargets;
  }

  /** Ends the server (SIGTERM) and waits for it to go. */
  async stop(): Promise<void> {
    if (this.#process.exitCode !== null || this.#process.signalCode !== null) return;
    this.#process.kill("SIGTERM");
    await exited(this.#process);
  }
}

/** Values of a query's samples by one label, e.g. by `worker`; numbers, as Prometheus holds them. */
export function byLabel(samples: readonly VectorSample[], label: string): Map<string, number> {
  return new Map(samples.map((sample) => [sample.metric[label] ?? "", Number(sample.value[1])]));
}
