// `logmux tail`: attaches to a running master and prints its records as they are routed, with the
// master's own line and JSON formatters (through a ConsoleLogHandler, so colours follow its rules).
import { DEFAULT_FORMAT, LoggerConfig } from "../config.js";
import { InvalidConfigError } from "../errors.js";
import { kAttach, kPushBatches } from "../handlers/base.js";
import { ConsoleLogHandler } from "../handlers/console.js";
import { durationMs } from "../handlers/kit/validate.js";
import { ACCEPTED_LEVELS_TEXT, LogLevel, parseLevel } from "../levels.js";
import type { RecordBatch } from "../protocol/record-batch.js";
import type { TailQuery } from "../protocol/tail.js";
import type { LogRecord } from "../record.js";
import { openTail } from "../transport/tail-client.js";
import {
  EXIT_FAILURE,
  EXIT_INTERRUPTED,
  EXIT_OK,
  EXIT_TERMINATED,
  intFlag,
  type OptionSpec,
  parseFlags,
  UsageError,
} from "./args.js";
import { formatCount } from "./format.js";

export const TAIL_USAGE = `Usage: logmux tail [--path ipc:///path/to/socket] [filters] [--json] [-n N | --since 10m] [--no-follow]

Prints the records a running master routes, as it routes them, after the records it kept.

  --path <ipc://...>      the master's address (default: the library default,
                          ipc://$XDG_RUNTIME_DIR/logmux/default.sock or ipc://<tmp>/logmux-<uid>/default.sock)
  --level <name>          lowest level shown: TRACE, DEBUG, INFO, WARNING (WARN), ERROR, CRITICAL
                          (FATAL), any case (default: TRACE, i.e. all the master accepts)
  --worker <glob>         only workers whose name matches (* and ?); repeat for any of several
                          (default: all workers)
  --where <key=value>     only records whose field key equals value (a dotted key reaches into
                          objects; numbers and booleans compare as written); repeat: all must hold
                          (default: none)
  --grep <regex>          only records whose message matches this JavaScript regular expression
                          (default: none)
  --json                  print JSON lines, as the master's JSON formatter writes them (default: text)
  --format <pattern>      text line format, as \`logmux master --format\`
                          (default: "${DEFAULT_FORMAT}")
  -n, --lines <N>         first print the last N matching records the master kept (default: 10;
                          the master keeps 1000 unless configured otherwise)
  --since <duration>      first print the kept records at most this old: 500ms, 30s, 10m, 2h, 1d
                          (with -n: both limits; without: every kept record that young) (default: no age limit)
  --no-follow             print the kept records and exit instead of following (default: follow)
  -h, --help              show this help

Text is coloured on a terminal (NO_COLOR and FORCE_COLOR are honoured). When the output is too slow
to keep up, the master drops what this tail cannot take (never slowing itself or a handler) and a
line on stderr says how many records were skipped.
Exit status: 0 done (--no-follow), 1 no master answered or the master went away, 2 bad flags,
130 stopped by Ctrl-C (SIGINT), 143 by SIGTERM.`;

/** `10m` -> 600000; a UsageError naming --since otherwise. */
export function parseDuration(value: string): number {
  const ms = durationMs(value);
  if (!Number.isSafeInteger(ms) || ms <= 0) {
    throw new UsageError(
      `--since expects a duration such as 500ms, 30s, 10m, 2h or 1d, got ${JSON.stringify(value)}`,
    );
  }
  return ms;
}

/** The command line as a TAIL_QUERY, plus what the client applies itself. */
export function tailQueryFrom(values: {
  level?: string | undefined;
  worker?: string[] | undefined;
  where?: string[] | undefined;
  lines?: string | undefined;
  since?: string | undefined;
  "no-follow"?: boolean | undefined;
}): TailQuery {
  const level = values.level === undefined ? LogLevel.TRACE : parseLevel(values.level);
  if (level === undefined) {
    throw new UsageError(`--level expects ${ACCEPTED_LEVELS_TEXT}, got ${JSON.stringify(values.level)}`);
  }
  const where = (values.where ?? []).map((pair): [string, string] => {
    const cut = pair.indexOf("=");
    if (cut <= 0) throw new UsageError(`--where expects key=value, got ${JSON.stringify(pair)}`);
    return [pair.slice(0, cut), pair.slice(cut + 1)];
  });
  const sinceMs = values.since === undefined ? 0 : parseDuration(values.since);
  const allKept = 2 ** 31;
  const last = intFlag("-n", values.lines, values.since === undefined ? 10 : allKept, 0, allKept);
  return {
    level,
    workers: values.worker ?? [],
    where,
    last,
    sinceMs,
    follow: !values["no-follow"],
  };
}

/** Every flag of `logmux tail` (test/cli/help.test.ts checks TAIL_USAGE lists each with its default). */
export const TAIL_FLAGS = {
  path: { type: "string" },
  level: { type: "string" },
  worker: { type: "string", multiple: true },
  where: { type: "string", multiple: true },
  grep: { type: "string" },
  json: { type: "boolean" },
  format: { type: "string" },
  lines: { type: "string", short: "n" },
  since: { type: "string" },
  "no-follow": { type: "boolean" },
} satisfies OptionSpec;

export async function tailCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, TAIL_FLAGS);
  if (values.help) {
    process.stdout.write(`${TAIL_USAGE}\n`);
    return EXIT_OK;
  }
  const lists = values as { worker?: string[]; where?: string[] };
  const query = tailQueryFrom({ ...values, worker: lists.worker, where: lists.where });
  let path: string;
  try {
    path = new LoggerConfig(values.path === undefined ? {} : { path: values.path }).path;
  } catch (error) {
    throw new UsageError(`--path: ${(error as Error).message}`);
  }
  let grep: RegExp | undefined;
  try {
    grep = values.grep === undefined ? undefined : new RegExp(values.grep);
  } catch (error) {
    throw new UsageError(`--grep: ${(error as Error).message}`);
  }
  if (values.json && values.format !== undefined)
    throw new UsageError("--format and --json exclude each other");
  let out: ConsoleLogHandler;
  try {
    out = new ConsoleLogHandler({ format: values.json ? "json" : values.format });
  } catch (error) {
    if (error instanceof InvalidConfigError) throw new UsageError(`--format: ${error.message}`);
    throw error;
  }
  return run(path, query, grep, out);
}

async function run(
  path: string,
  query: TailQuery,
  grep: RegExp | undefined,
  out: ConsoleLogHandler,
): Promise<number> {
  let outputClosed = false;
  out[kAttach]({
    strFormat: DEFAULT_FORMAT,
    warn: (message) => process.stderr.write(`logmux tail: ${message}\n`),
    reportError: (error) => {
      // A reader that went away (`| head`) ends the tail quietly, as other tools do.
      outputClosed = true;
      if ((error as NodeJS.ErrnoException)?.code !== "EPIPE") {
        process.stderr.write(`logmux tail: cannot write the output: ${(error as Error).message}\n`);
      }
      tail.stop();
    },
  });
  const tail = openTail(path, query, {
    records(batch: RecordBatch) {
      if (grep === undefined) return out[kPushBatches]([batch], LogLevel.TRACE);
      const matching: LogRecord[] = [];
      for (let i = 0; i < batch.count; i++) if (grep.test(batch.message(i))) matching.push(batch.record(i));
      return matching.length === 0 ? undefined : out.push(matching);
    },
    skipped(count) {
      process.stderr.write(`… ${formatCount(count)} records skipped: terminal too slow\n`);
    },
    live() {
      if (query.follow) process.stderr.write(`logmux tail: following ${path} (Ctrl-C to stop)\n`);
    },
  });
  let signalled: NodeJS.Signals | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    signalled = signal;
    tail.stop();
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  let code: number;
  try {
    const end = await tail.ended;
    if (end === "gone") {
      process.stderr.write(
        `logmux tail: the master at ${path} closed the connection (it stopped or restarted)\n`,
      );
      code = EXIT_FAILURE;
    } else code = EXIT_OK;
  } catch (error) {
    process.stderr.write(`logmux tail: ${(error as Error).message}\n`);
    code = EXIT_FAILURE;
  }
  if (signalled !== undefined) code = signalled === "SIGINT" ? EXIT_INTERRUPTED : EXIT_TERMINATED;
  else if (outputClosed) code = EXIT_OK;
  // What was handed to stdout is written before the exit (main waits for stdout's drain too).
  await Promise.resolve(out.close()).catch(() => {});
  return code;
}
