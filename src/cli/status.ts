// `logmux status`: asks a running master for its status and prints it as tables (or JSON).
import { LoggerConfig } from "../config.js";
import type { MasterStatus } from "../protocol/status.js";
import { queryStatus } from "../transport/status-client.js";
import { EXIT_FAILURE, EXIT_OK, intFlag, type OptionSpec, parseFlags, UsageError } from "./args.js";
import { formatAgo, formatCount, formatDuration, handlerCells, table } from "./format.js";

export const STATUS_USAGE = `Usage: logmux status [--path ipc:///path/to/socket] [--json] [--timeout ms]

Asks the master listening at --path for its status and prints its workers and handlers.

  --path <ipc://...>   the master's address (default: the library default,
                       ipc://$XDG_RUNTIME_DIR/logmux/default.sock or ipc://<tmp>/logmux-<uid>/default.sock)
  --json               print the raw status JSON instead of tables (default: off)
  --timeout <ms>       how long to wait for an answer (default: 2000)
  -h, --help           show this help

Exit status: 0 answered, 1 no master answered, 2 bad flags.`;

/** The status command's flags, as parseArgs reads them (test/cli/help.test.ts checks STATUS_USAGE lists each). */
export const STATUS_FLAGS = {
  path: { type: "string" },
  json: { type: "boolean" },
  timeout: { type: "string" },
} satisfies OptionSpec;

export async function statusCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, STATUS_FLAGS);
  if (values.help) {
    process.stdout.write(`${STATUS_USAGE}\n`);
    return EXIT_OK;
  }
  const timeoutMs = intFlag("--timeout", values.timeout, 2000, 1, 600_000);
  let path: string;
  try {
    path = new LoggerConfig(values.path === undefined ? {} : { path: values.path }).path;
  } catch (error) {
    throw new UsageError(`--path: ${(error as Error).message}`);
  }
  let status: MasterStatus;
  try {
    status = await queryStatus(path, timeoutMs);
  } catch (error) {
    process.stderr.write(`logmux status: ${(error as Error).message}\n`);
    return EXIT_FAILURE;
  }
  if (values.json) process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
  else process.stdout.write(`${renderStatus(status, Date.now()).join("\n")}\n`);
  return EXIT_OK;
}

/** The human-readable report: master totals, then one row per worker and per handler. */
export function renderStatus(status: MasterStatus, now: number): string[] {
  const connected = status.workers.filter((w) => w.connected).length;
  const lines = [
    `master pid ${status.pid} at ${status.path}`,
    `  uptime ${formatDuration(status.uptimeMs)}, records received ${formatCount(status.recordsReceived)}, ` +
      `protocol errors ${formatCount(status.protocolErrors)}`,
    "",
    `workers: ${connected} connected, ${status.workers.length} known`,
  ];
  if (status.workers.length > 0) {
    const rows = status.workers.map((w) => [
      w.name,
      String(w.pid),
      w.state,
      formatAgo(w.lastHeartbeat, now),
      formatCount(w.recordsReceived),
      formatCount(w.recordsDropped),
    ]);
    lines.push(
      ...table(["NAME", "PID", "STATE", "LAST HEARTBEAT", "RECORDS", "DROPS"], rows, [
        false,
        true,
        false,
        false,
        true,
        true,
      ]).map((line) => `  ${line}`),
    );
  }
  lines.push("", `handlers: ${status.handlers.length}`);
  if (status.handlers.length > 0) {
    const rows = status.handlers.map(handlerCells);
    lines.push(
      ...table(["NAME", "QUEUED", "DELIVERED", "DROPPED", "FAILURES", "STALLED"], rows, [
        false,
        true,
        true,
        true,
        true,
        false,
      ]).map((line) => `  ${line}`),
    );
  }
  // A master from before `logmux tail` sends no `tails`.
  const tails = status.tails as MasterStatus["tails"] | undefined;
  if (tails !== undefined) {
    lines.push(
      "",
      `tails: ${tails.connected.length} attached, ${formatCount(tails.skipped)} records skipped (too slow)`,
    );
  }
  return lines;
}
