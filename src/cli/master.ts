// `logmux master`: a standalone MasterLogger for services whose workers log to a shared socket.
// Runs until SIGTERM/SIGINT (then drains and exits 0); SIGHUP reopens the log file (logrotate).
import { readFileSync } from "node:fs";
import { LoggerConfig } from "../config.js";
import { InvalidConfigError } from "../errors.js";
import type { BaseLogHandler } from "../handlers/base.js";
import { DiscordLogHandler } from "../handlers/chat/discord.js";
import { SlackLogHandler } from "../handlers/chat/slack.js";
import { TelegramLogHandler } from "../handlers/chat/telegram.js";
import { ConsoleLogHandler } from "../handlers/console.js";
import { FileLogHandler } from "../handlers/file.js";
import { LEVEL_NAMES } from "../levels.js";
import { MasterLogger } from "../master/master.js";
import { EXIT_FAILURE, EXIT_OK, type OptionSpec, parseFlags, UsageError } from "./args.js";
import { packageVersion } from "./version.js";

export const MASTER_USAGE = `Usage: logmux master [--path ipc:///run/app/log.sock] [--file /var/log/app.log] [options]

Runs a master that receives the records of every worker logging to --path and writes them out.
Stops on SIGTERM or SIGINT after draining (exit 0); SIGHUP reopens --file (for logrotate).

  --path <ipc://...>     where to listen (default: the library default socket,
                         ipc://$XDG_RUNTIME_DIR/logmux/default.sock or ipc://<tmp>/logmux-<uid>/default.sock)
  --file <path>          append lines to this file, created with its directories if missing
                         (no default: no file)
  --level <name>         lowest level recorded: TRACE, DEBUG, INFO, WARNING, ERROR, CRITICAL (default: INFO)
  --format <pattern>     line format, Python logging style; must contain %(message)s
                         (default: "%(asctime)s [%(levelname)s] %(name)s - %(message)s")
  --json                 write JSON lines to --file and --console instead of --format (default: off)
  --console              also write lines to stdout, coloured on a terminal (default: off)
  --discord <url>        send WARNING and above to a Discord webhook (no default: off)
  --telegram <token:chat> send WARNING and above to a Telegram chat, BOT_TOKEN:CHAT_ID (no default: off)
  --slack <url>          send WARNING and above to a Slack incoming webhook (no default: off)
  --alert-level <name>   lowest level sent to Discord/Telegram/Slack (default: WARNING)
  --config <file.json>   read these settings from a JSON file; flags given too override it
                         (no default: flags only)
  -h, --help             show this help

At least one of --file, --console, --discord, --telegram, --slack is required.
Webhook URLs and tokens are secrets: prefer --config with a file only the service user can read.
Exit status: 0 stopped cleanly, 1 could not start (socket in use, file not writable), 2 bad flags.`;

/** Everything `logmux master` can be told, by flag or by config file. */
export interface MasterSettings {
  path?: string;
  file?: string;
  level?: string;
  format?: string;
  json?: boolean;
  console?: boolean;
  discord?: string;
  telegram?: string;
  slack?: string;
  alertLevel?: string;
}

/** Setting name -> its flag, and the JSON type the config file must give it. */
const SETTINGS: Record<keyof MasterSettings, { flag: string; type: "string" | "boolean" }> = {
  path: { flag: "--path", type: "string" },
  file: { flag: "--file", type: "string" },
  level: { flag: "--level", type: "string" },
  format: { flag: "--format", type: "string" },
  json: { flag: "--json", type: "boolean" },
  console: { flag: "--console", type: "boolean" },
  discord: { flag: "--discord", type: "string" },
  telegram: { flag: "--telegram", type: "string" },
  slack: { flag: "--slack", type: "string" },
  alertLevel: { flag: "--alert-level", type: "string" },
};

const SECRET_SETTINGS = new Set<keyof MasterSettings>(["discord", "telegram", "slack"]);

/** Reads and checks a config file; every problem is a UsageError naming the file and the key. */
export function readConfigFile(file: string): MasterSettings {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new UsageError(`--config: cannot read ${file}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--config: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new UsageError(`--config: ${file} must hold a JSON object of settings`);
  }
  const settings: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(parsed)) {
    const spec = SETTINGS[key as keyof MasterSettings];
    if (spec === undefined) {
      throw new UsageError(
        `--config: unknown key "${key}" in ${file}; accepted keys: ${Object.keys(SETTINGS).join(", ")}`,
      );
    }
    if (typeof value !== spec.type) {
      // A secret's value is never echoed, even a wrong one.
      const got = SECRET_SETTINGS.has(key as keyof MasterSettings) ? typeof value : JSON.stringify(value);
      throw new UsageError(`--config: "${key}" in ${file} must be a ${spec.type}, got ${got}`);
    }
    settings[key] = value;
  }
  return settings as MasterSettings;
}

interface Built {
  config: LoggerConfig;
  handlers: BaseLogHandler[];
  file: FileLogHandler | undefined;
  /** What the banner says: never a URL or a token. */
  outputs: string[];
}

/** Names where a setting came from: its flag, or its key in the config file. */
type Origin = (key: keyof MasterSettings) => string;

/** An InvalidConfigError from the library, restated as a UsageError naming the flag or key. */
function usageFrom(origin: string, error: InvalidConfigError): UsageError {
  const prefix = `Invalid ${error.field}: `;
  return new UsageError(
    `${origin}: ${error.message.startsWith(prefix) ? error.message.slice(prefix.length) : error.message}`,
  );
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
  if (settings.file !== undefined) {
    try {
      file = new FileLogHandler(settings.file, format === undefined ? {} : { format });
    } catch (error) {
      if (error instanceof InvalidConfigError) throw usageFrom(origin("file"), error);
      throw new StartupError(`cannot open ${settings.file}: ${(error as Error).message}`);
    }
    handlers.unshift(file);
    outputs.unshift(`file ${file.path}${settings.json ? " (JSON lines)" : ""}`);
  }
  if (handlers.length === 0) {
    throw new UsageError("nothing to write to: give --file, --console, --discord, --telegram or --slack");
  }
  return { config, handlers, file, outputs };
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

async function run({ config, handlers, file, outputs }: Built): Promise<number> {
  const master = new MasterLogger(config, handlers);
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
    process.stderr.write(`logmux master: cannot listen on ${config.path}: ${(error as Error).message}\n`);
    await master.shutdown();
    return EXIT_FAILURE;
  }
  if (stopping === undefined) {
    master.info(`logmux master started (pid ${process.pid}), listening on ${config.path}`);
    process.stderr.write(
      `logmux master ${packageVersion()}: listening on ${config.path} (pid ${process.pid}); ` +
        `level ${LEVEL_NAMES[config.baseLevel]}; ${outputs.join("; ")}\n`,
    );
  }
  return finished;
}
