// `logmux master`: a standalone MasterLogger for services whose workers log to a shared socket.
// Runs until SIGTERM/SIGINT (then drains and exits 0); SIGHUP reopens the log file (logrotate).
import { LoggerConfig } from "../config.js";
import { InvalidConfigError, ListenFailedError } from "../errors.js";
import type { BaseLogHandler } from "../handlers/base.js";
import { DiscordLogHandler } from "../handlers/chat/discord.js";
import { SlackLogHandler } from "../handlers/chat/slack.js";
import { TelegramLogHandler } from "../handlers/chat/telegram.js";
import { ConsoleLogHandler } from "../handlers/console.js";
import { FileLogHandler } from "../handlers/file.js";
import { LEVEL_NAMES } from "../levels.js";
import { MasterLogger } from "../master/master.js";
import type { MetricsOptions } from "../master/metrics-options.js";
import { EXIT_FAILURE, EXIT_OK, type OptionSpec, parseFlags, UsageError } from "./args.js";
import {
  describeRotation,
  type MasterSettings,
  metricsAddress,
  type Origin,
  ROTATE_FIELDS,
  readConfigFile,
  rotateOptions,
  SETTINGS,
  usageFrom,
} from "./master-settings.js";
import { packageVersion } from "./version.js";

export const MASTER_USAGE = `Usage: logmux master [--path ipc:///run/app/log.sock] [--file /var/log/app.log] [options]

Runs a master that receives the records of every worker logging to --path and writes them out.
Stops on SIGTERM or SIGINT after draining (exit 0); SIGHUP reopens --file (for an external
logrotate; --rotate-* rotate it from within the master instead).

  --path <ipc://...>     where to listen (default: the library default socket,
                         ipc://$XDG_RUNTIME_DIR/logmux/default.sock or ipc://<tmp>/logmux-<uid>/default.sock)
  --file <path>          append lines to this file, created with its directories if missing
                         (no default: no file)
  --level <name>         lowest level recorded: TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL (default: INFO)
  --format <pattern>     line format, Python logging style; must contain %(message)s
                         (default: "%(asctime)s [%(levelname)s] %(name)s - %(message)s")
  --json                 write JSON lines to --file and --console instead of --format (default: off)
  --rotate-size <size>   rotate --file before it grows past this: 100MB, 512KB, 1GB (1 KB = 1024 B)
                         (no default: no size limit)
  --rotate-interval <t>  rotate --file once it is this old: 1d, 6h, 30m, 90s (no default: no age limit)
  --rotate-at-midnight   rotate --file at every local midnight (default: off)
  --rotate-keep <n>      rotated files to keep; older ones are deleted (default: 14)
  --rotate-compress      gzip rotated files in the background (default: off)
  --console              also write lines to stdout, coloured on a terminal (default: off)
  --discord <url>        send WARNING and above to a Discord webhook (no default: off)
  --telegram <token:chat> send WARNING and above to a Telegram chat, BOT_TOKEN:CHAT_ID (no default: off)
  --slack <url>          send WARNING and above to a Slack incoming webhook (no default: off)
  --alert-level <name>   lowest level sent to Discord/Telegram/Slack (default: WARNING)
  --metrics <host:port>  serve Prometheus metrics at http://host:port/metrics; a port alone listens
                         on 127.0.0.1 (no default: off)
  --config <file.json>   read these settings from a JSON file; flags given too override it
                         (no default: flags only)
  -h, --help             show this help

At least one of --file, --console, --discord, --telegram, --slack is required.
Webhook URLs and tokens are secrets: prefer --config with a file only the service user can read.
Exit status: 0 stopped cleanly, 1 could not start (socket or metrics port in use, file not writable),
2 bad flags.`;

/** Everything `logmux master` can be told, by flag or by config file. */
interface Built {
  config: LoggerConfig;
  handlers: BaseLogHandler[];
  file: FileLogHandler | undefined;
  metrics: MetricsOptions | undefined;
  /** What the banner says: never a URL or a token. */
  outputs: string[];
}

export function buildMaster(settings: MasterSettings, origin: Origin): Built {
  const options: ConstructorParameters<typeof LoggerConfig>[0] = {};
  if (settings.path !== undefined) options.path = settings.path;
  if (settings.level !== undefined) options.baseLevel = settings.level;
  if (settings.format !== undefined) options.strFormat = settings.format;
  const fields: Record<string, keyof MasterSettings> = {
    path: "path",
    baseLevel: "level",
    strFormat: "format",
  };
  let config: LoggerConfig;
  try {
    config = new LoggerConfig(options);
  } catch (error) {
    const key = error instanceof InvalidConfigError ? fields[error.field] : undefined;
    throw key === undefined ? error : usageFrom(origin(key), error as InvalidConfigError);
  }
  // Everything that can be refused is checked before the file is created.
  const handlers: BaseLogHandler[] = [];
  const outputs: string[] = [];
  const format = settings.json ? "json" : undefined;
  if (settings.file === "") throw new UsageError(`${origin("file")}: expected a file path, got ""`);
  if (settings.console) {
    handlers.push(new ConsoleLogHandler(format === undefined ? {} : { format }));
    outputs.push(`console${settings.json ? " (JSON lines)" : ""}`);
  }
  const anyAlerts =
    settings.discord !== undefined || settings.telegram !== undefined || settings.slack !== undefined;
  if (settings.alertLevel !== undefined && !anyAlerts) {
    throw new UsageError(
      `${origin("alertLevel")} applies to --discord, --telegram and --slack; none is given`,
    );
  }
  const alertOptions = { level: settings.alertLevel ?? "WARNING" };
  const alertOrigin = settings.alertLevel === undefined ? undefined : origin("alertLevel");
  /** A bad level is reported against --alert-level, anything else against the handler's own flag. */
  const alerting = <T>(key: keyof MasterSettings, build: () => T): T => {
    try {
      return build();
    } catch (error) {
      if (!(error instanceof InvalidConfigError)) throw error;
      throw usageFrom(
        error.field === "level" && alertOrigin !== undefined ? alertOrigin : origin(key),
        error,
      );
    }
  };
  if (settings.discord !== undefined) {
    const url = settings.discord;
    handlers.push(alerting("discord", () => new DiscordLogHandler(url, alertOptions)));
    outputs.push("discord: enabled");
  }
  if (settings.telegram !== undefined) {
    const value = settings.telegram;
    const cut = value.lastIndexOf(":");
    if (cut <= 0 || value.indexOf(":") === cut) {
      throw new UsageError(
        `${origin("telegram")}: expected BOT_TOKEN:CHAT_ID, e.g. 123456:ABC-DEF:-1001234567890 (the value is not shown)`,
      );
    }
    handlers.push(
      alerting(
        "telegram",
        () => new TelegramLogHandler(value.slice(0, cut), value.slice(cut + 1), alertOptions),
      ),
    );
    outputs.push("telegram: enabled");
  }
  if (settings.slack !== undefined) {
    const url = settings.slack;
    handlers.push(alerting("slack", () => new SlackLogHandler(url, alertOptions)));
    outputs.push("slack: enabled");
  }
  if (anyAlerts) outputs.push(`alerts from ${LEVEL_NAMES[handlers.at(-1)!.level]}`);
  let file: FileLogHandler | undefined;
  const rotate = rotateOptions(settings, origin);
  if (settings.file !== undefined) {
    try {
      file = new FileLogHandler(settings.file, {
        ...(format === undefined ? {} : { format }),
        ...(rotate === undefined ? {} : { rotate }),
      });
    } catch (error) {
      if (error instanceof InvalidConfigError)
        throw usageFrom(origin(ROTATE_FIELDS[error.field] ?? "file"), error);
      throw new StartupError(`cannot open ${settings.file}: ${(error as Error).message}`);
    }
    handlers.unshift(file);
    const rotation = rotate === undefined ? "" : `, ${describeRotation(settings)}`;
    outputs.unshift(`file ${file.path}${settings.json ? " (JSON lines)" : ""}${rotation}`);
  }
  if (handlers.length === 0) {
    throw new UsageError("nothing to write to: give --file, --console, --discord, --telegram or --slack");
  }
  const metrics =
    settings.metrics === undefined ? undefined : metricsAddress(settings.metrics, origin("metrics"));
  return { config, handlers, file, metrics, outputs };
}

/** The master could not start for a reason outside the command line (exit 1). */
export class StartupError extends Error {}

/** The master's flags, as parseArgs reads them (test/cli/help.test.ts checks MASTER_USAGE lists each). */
export const MASTER_FLAGS = {
  path: { type: "string" },
  file: { type: "string" },
  level: { type: "string" },
  format: { type: "string" },
  json: { type: "boolean" },
  console: { type: "boolean" },
  discord: { type: "string" },
  telegram: { type: "string" },
  slack: { type: "string" },
  "alert-level": { type: "string" },
  metrics: { type: "string" },
  "rotate-size": { type: "string" },
  "rotate-interval": { type: "string" },
  "rotate-at-midnight": { type: "boolean" },
  "rotate-keep": { type: "string" },
  "rotate-compress": { type: "boolean" },
  config: { type: "string" },
} satisfies OptionSpec;

export async function masterCommand(argv: readonly string[]): Promise<number> {
  const { values } = parseFlags(argv, MASTER_FLAGS);
  if (values.help) {
    process.stdout.write(`${MASTER_USAGE}\n`);
    return EXIT_OK;
  }
  const fromFile = values.config === undefined ? {} : readConfigFile(values.config);
  const fromFlags: MasterSettings = {
    path: values.path,
    file: values.file,
    level: values.level,
    format: values.format,
    json: values.json,
    console: values.console,
    discord: values.discord,
    telegram: values.telegram,
    slack: values.slack,
    alertLevel: values["alert-level"],
    metrics: values.metrics,
    rotateSize: values["rotate-size"],
    rotateInterval: values["rotate-interval"],
    rotateAtMidnight: values["rotate-at-midnight"],
    rotateKeep: values["rotate-keep"],
    rotateCompress: values["rotate-compress"],
  };
  const settings: MasterSettings = { ...fromFile };
  for (const [key, value] of Object.entries(fromFlags)) {
    if (value !== undefined) (settings as Record<string, unknown>)[key] = value;
  }
  const origin: Origin = (key) =>
    fromFlags[key] === undefined && fromFile[key] !== undefined
      ? `"${key}" in ${values.config}`
      : SETTINGS[key].flag;

  let built: Built;
  try {
    built = buildMaster(settings, origin);
  } catch (error) {
    if (error instanceof StartupError) {
      process.stderr.write(`logmux master: ${error.message}\n`);
      return EXIT_FAILURE;
    }
    throw error;
  }
  return run(built);
}

async function run({ config, handlers, file, metrics, outputs }: Built): Promise<number> {
  const master = new MasterLogger(config, handlers, metrics === undefined ? {} : { metrics });
  // Signals are hooked before anything can announce readiness: a SIGTERM that follows the banner
  // at once (or arrives during startup) must still drain, not kill.
  let stopping: NodeJS.Signals | undefined;
  let stopped: (code: number) => void = () => {};
  const finished = new Promise<number>((resolve) => {
    stopped = resolve;
  });
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping !== undefined) {
      process.stderr.write(`logmux master: ${signal} again: exiting without waiting for the drain\n`);
      process.exit(EXIT_FAILURE);
    }
    stopping = signal;
    process.stderr.write(`logmux master: ${signal}: draining workers and handlers\n`);
    master.info(`logmux master stopping on ${signal}`);
    master.shutdown().then(
      () => {
        process.stderr.write("logmux master: stopped\n");
        stopped(EXIT_OK);
      },
      (error: unknown) => {
        process.stderr.write(`logmux master: shutdown failed: ${(error as Error).message}\n`);
        stopped(EXIT_FAILURE);
      },
    );
  };
  process.on("SIGTERM", stop);
  process.on("SIGINT", stop);

  let reopening = Promise.resolve();
  process.on("SIGHUP", () => {
    reopening = reopening.then(async () => {
      if (file === undefined) {
        process.stderr.write("logmux master: SIGHUP: there is no --file to reopen\n");
        return;
      }
      try {
        await file.reopen();
        process.stderr.write(`logmux master: reopened ${file.path} (SIGHUP)\n`);
        master.info(`Reopened ${file.path} on SIGHUP`);
      } catch (error) {
        process.stderr.write(
          `logmux master: SIGHUP: cannot reopen ${file.path}: ${(error as Error).message}\n`,
        );
      }
    });
  });

  try {
    await master.ready();
  } catch (error) {
    // The metrics server's error names its own address.
    const what =
      metrics !== undefined && error instanceof ListenFailedError && error.path.startsWith("http://")
        ? ""
        : `cannot listen on ${config.path}: `;
    process.stderr.write(`logmux master: ${what}${(error as Error).message}\n`);
    await master.shutdown();
    return EXIT_FAILURE;
  }
  if (stopping === undefined) {
    master.info(`logmux master started (pid ${process.pid}), listening on ${config.path}`);
    process.stderr.write(
      `logmux master ${packageVersion()}: listening on ${config.path} (pid ${process.pid}); ` +
        `level ${LEVEL_NAMES[config.baseLevel]}; ${outputs.join("; ")}` +
        `${metrics === undefined ? "" : `; metrics at ${master.metricsAddress()?.url}`}\n`,
    );
  }
  return finished;
}
