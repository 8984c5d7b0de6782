// Forking child processes with a message inbox, and making sure none outlives the run.
import { fork } from "node:child_process";
import { fileURLToPath } from "node:url";

const CHILDREN = fileURLToPath(new URL("../children/", import.meta.url));
const live = new Set();

/**
 * Forks bench/children/<script>.mjs with `params` (JSON in argv[2]). Returns a handle whose
 * `next(type)` resolves with the next message of that type; a child that reports
 * `{ type: "error" }` or exits rejects every pending `next`. `stdout`: "inherit" or "ignore".
 */
export function forkChild(script, params = {}, { stdout = "inherit" } = {}) {
  const cp = fork(`${CHILDREN}${script}.mjs`, [JSON.stringify(params)], {
    // stdout "ignore" is /dev/null: a master whose console handler writes there, as `> /dev/null`.
    stdio: ["ignore", stdout, "inherit", "ipc"],
    serialization: "advanced",
  });
  live.add(cp);
  const inbox = [];
  const waiters = [];
  let failure;
  const failAll = (error) => {
    failure ??= error;
    for (const w of waiters.splice(0)) w.reject(failure);
  };
  cp.on("message", (message) => {
    if (message?.type === "error") {
      failAll(new Error(`${script} (pid ${cp.pid}): ${message.message}`));
      return;
    }
    const i = waiters.findIndex((w) => w.type === message?.type);
    if (i >= 0) waiters.splice(i, 1)[0].resolve(message);
    else inbox.push(message);
  });
  const exited = new Promise((resolve) => {
    cp.once("exit", (code, signal) => {
      live.delete(cp);
      resolve({ code, signal });
    });
  });
  // On "close", not "exit": a child's last messages can still be in the IPC channel when its exit
  // is reported, and a waiter failed then would miss the "done" that was on its way.
  cp.once("close", (code, signal) =>
    failAll(new Error(`${script} (pid ${cp.pid}) exited with ${signal ?? code} unexpectedly`)),
  );
  cp.on("error", (error) => failAll(error));
  return {
    pid: cp.pid,
    exited,
    send(message) {
      if (cp.connected) cp.send(message);
    },
    next(type) {
      const i = inbox.findIndex((m) => m?.type === type);
      if (i >= 0) return Promise.resolve(inbox.splice(i, 1)[0]);
      if (failure) return Promise.reject(failure);
      return new Promise((resolve, reject) => waiters.push({ type, resolve, reject }));
    },
    kill() {
      if (cp.exitCode === null && cp.signalCode === null) cp.kill("SIGKILL");
    },
  };
}

/** Kills every child still alive (used on failure, timeout and exit). */
export function killAll() {
  for (const cp of live) {
    if (cp.exitCode === null && cp.signalCode === null) cp.kill("SIGKILL");
  }
}

export class TimeoutError extends Error {}

/** Rejects with a TimeoutError when `promise` takes longer than `ms`. */
export function withTimeout(promise, ms, label) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new TimeoutError(`${label} timed out after ${ms / 1000} s`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * Runs `body(track)` where `track(child)` registers the children it starts; whatever happens
 * (success, error, timeout) every tracked child is killed afterwards.
 */
export async function runBounded(label, ms, body) {
  const children = [];
  const track = (child) => {
    children.push(child);
    return child;
  };
  try {
    return await withTimeout(body(track), ms, label);
  } finally {
    for (const child of children) child.kill();
    await Promise.all(children.map((c) => c.exited));
  }
}
