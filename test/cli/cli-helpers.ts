// Running the built `logmux` command the way a user does: `node dist/cli/main.js ...`.
import { type ChildProcess, type SpawnOptions, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { TestContext } from "node:test";
import { fileURLToPath } from "node:url";

/** The repository root (this file runs from .build/test/cli/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");
export const MAIN = join(ROOT, "dist", "cli", "main.js");

export function requireBuiltCli(): void {
  if (!existsSync(MAIN)) {
    throw new Error(`${MAIN} is missing: run \`npm run build\` first (npm test does it in pretest)`);
  }
}

export interface Cli {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves once `pattern` matches the stream's text so far; rejects on exit or deadline. */
  waitFor(stream: "stdout" | "stderr", pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawns `node dist/cli/main.js ...args`; the process is SIGKILLed after the test if still alive. */
export function spawnCli(t: TestContext, args: readonly string[], options: SpawnOptions = {}): Cli {
  requireBuiltCli();
  const child = spawn(process.execPath, [MAIN, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    ...options,
    env: { ...process.env, NO_COLOR: "1", ...options.env },
  });
  t.after(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  const text = { stdout: "", stderr: "" };
  const listeners = new Set<() => void>();
  for (const stream of ["stdout", "stderr"] as const) {
    child[stream]?.on("data", (chunk: Buffer) => {
      text[stream] += chunk.toString();
      for (const listener of listeners) listener();
    });
  }
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done) =>
    child.once("close", (code, signal) => done({ code, signal })),
  );
  return {
    child,
    stdout: () => text.stdout,
    stderr: () => text.stderr,
    exited: () => exit,
    waitFor(stream, pattern, timeoutMs = 10_000) {
      return new Promise((resolvePromise, reject) => {
        const check = (): boolean => {
          const match = pattern.exec(text[stream]);
          if (match === null) return false;
          finish();
          resolvePromise(match);
          return true;
        };
        const timer = setTimeout(() => {
          finish();
          reject(
            new Error(`timed out after ${timeoutMs} ms waiting for ${pattern} on ${stream}; ${describe()}`),
          );
        }, timeoutMs);
        const finish = (): void => {
          clearTimeout(timer);
          listeners.delete(listener);
        };
        const listener = (): void => {
          check();
        };
        if (check()) return;
        listeners.add(listener);
        exit.then(() => {
          if (listeners.has(listener) && !check()) {
            finish();
            reject(new Error(`process exited before ${pattern} appeared on ${stream}; ${describe()}`));
          }
        });
      });
    },
  };
  function describe(): string {
    return `stdout: ${JSON.stringify(text.stdout.slice(-2000))}, stderr: ${JSON.stringify(text.stderr.slice(-2000))}`;
  }
}

/** Runs a command to completion (with a deadline) and returns its exit code and output. */
export async function runCli(
  t: TestContext,
  args: readonly string[],
  options: SpawnOptions = {},
  timeoutMs = 15_000,
): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  const cli = spawnCli(t, args, options);
  let timer: NodeJS.Timeout | undefined;
  const result = await Promise.race([
    cli.exited(),
    new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`logmux ${args.join(" ")} did not exit within ${timeoutMs} ms`)),
        timeoutMs,
      );
    }),
  ]).finally(() => clearTimeout(timer));
  return { ...result, stdout: cli.stdout(), stderr: cli.stderr() };
}

/** Like waitFor, for conditions that need an async look (a status query, a tmux capture). */
export async function until(
  condition: () => Promise<boolean> | boolean,
  timeoutMs: number,
  what: string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}
