// Where things are, whether logmux is built, and what machine and versions this run used.
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const ROOT = fileURLToPath(new URL("../../", import.meta.url));
export const BENCH = fileURLToPath(new URL("../", import.meta.url));
/** The build under test: dist/ of this repository, or LOGMUX_DIST (another build's dist directory). */
export const DIST = process.env.LOGMUX_DIST ? `${resolve(process.env.LOGMUX_DIST)}/` : `${ROOT}dist/`;
/**
 * The file `import "logmux"` loads: the ESM entry over the CommonJS bundle (scripts/bundle.mjs), or,
 * for an older build compared through LOGMUX_DIST, its ESM bundle logmux.js or its index.js.
 */
export const DIST_INDEX =
  [`${DIST}logmux.mjs`, `${DIST}logmux.js`].find((file) => existsSync(file)) ?? `${DIST}index.js`;
/**
 * What a worker process imports: `logmux/worker` (dist/worker.mjs, the worker's bundle alone), or,
 * for an older build without it, the whole library.
 */
export const DIST_WORKER = existsSync(`${DIST}worker.mjs`) ? `${DIST}worker.mjs` : DIST_INDEX;
/** Packages of bench/package.json whose versions each run records. */
export const PEERS = ["pino", "winston", "log4js", "@logtape/logtape", "@logtape/file"];

/** The message every benchmark logs: 40-60 bytes of ASCII, also the marker used to count lines. */
export const MESSAGE = "request handled: GET /api/items/42 status=200 in 3.1ms";

/**
 * The end-to-end loops build every message with `+`, as applications do: E2E_HEAD + i + E2E_TAIL
 * (52-58 bytes of ASCII). E2E_HEAD occurs once in every such line, so it is the marker that
 * counts them.
 */
export const E2E_HEAD = "request handled: GET /api/items/";
export const E2E_TAIL = " status=200 in 3.1ms";

/** Returns { available: true } or { available: false, reason } without importing anything heavy twice. */
export async function logmuxStatus() {
  // Only the entry is checked: the modules behind it move as the source is reorganised.
  if (!existsSync(DIST_INDEX)) {
    return { available: false, reason: `${DIST_INDEX} is missing (run npm run build)` };
  }
  try {
    const mod = await import(DIST_INDEX);
    const missing = ["LoggerConfig", "LogLevel", "MasterLogger", "WorkerLogger", "FileLogHandler"].filter(
      (name) => mod[name] === undefined,
    );
    if (missing.length)
      return { available: false, reason: `dist/index.js does not export ${missing.join(", ")}` };
  } catch (error) {
    return { available: false, reason: `importing dist/index.js failed: ${error.message}` };
  }
  return { available: true };
}

function readVersion(packageJson) {
  try {
    return JSON.parse(readFileSync(packageJson, "utf8")).version;
  } catch {
    return "not installed";
  }
}

function gitRevision() {
  try {
    const rev = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT, encoding: "utf8" }).trim();
    const dirty = execFileSync("git", ["status", "--porcelain", "--", "src"], {
      cwd: ROOT,
      encoding: "utf8",
    });
    return dirty.trim() ? `${rev} (src modified)` : rev;
  } catch {
    return "unknown";
  }
}

export function machineInfo() {
  const cpuList = cpus();
  const versions = { logmux: `${readVersion(`${ROOT}package.json`)} @ ${gitRevision()}` };
  for (const peer of PEERS) versions[peer] = readVersion(`${BENCH}node_modules/${peer}/package.json`);
  return {
    cpuModel: cpuList[0]?.model.trim() ?? "unknown",
    cores: cpuList.length,
    memoryGiB: Math.round((totalmem() / 1024 ** 3) * 10) / 10,
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
    date: new Date().toISOString(),
    /** 1, 5 and 15 minute load averages when the run started: other work on the machine shows here. */
    loadAverage: loadAverage(),
    versions,
  };
}

export function loadAverage() {
  return loadavg().map((l) => Math.round(l * 100) / 100);
}
