import { InvalidConfigError } from "../errors.js";
import {
  cutIndex,
  NetworkLogHandler,
  type NetworkLogHandlerOptions,
  type NetworkVerdict,
} from "./network.js";

/** Options for {@link SlackLogHandler}. */
export interface SlackLogHandlerOptions extends NetworkLogHandlerOptions {
  /**
   * Accept a webhook URL under this base instead of `https://hooks.slack.com/services/` (a proxy,
   * or a local test server).
   * @default undefined (only https://hooks.slack.com/services/…)
   * @example { baseUrl: "https://slack-proxy.internal/services/" }
   */
  baseUrl?: string;
  /**
   * Send each message as a code block (monospace, no formatting); the fences count toward the
   * message size.
   * @default false
   * @example { codeBlock: true }
   */
  codeBlock?: boolean;
}

/**
 * Slack truncates `text` beyond 40,000 characters and recommends at most 4,000 for best results
 * (chat.postMessage, "Truncating content"); incoming webhooks follow the same rules.
 */
const SLACK_MAX_TEXT = 4000;

/** Posting messages: 1 per second, short bursts allowed (Slack rate limits, "Incoming webhooks"). */
const DEFAULT_MIN_INTERVAL_MS = 1000;
const DEFAULT_BURST = 3;

const SLACK_HOST = "hooks.slack.com";
const WEBHOOK_PATH = /^\/services\/([\w-]+\/[\w-]+\/[\w-]+)\/?$/;
const FENCE = "```";

function describeAccepted(): string {
  return "https://hooks.slack.com/services/<team>/<bot>/<secret>, or a URL under the baseUrl option";
}

/**
 * Posts log lines to a Slack channel through an incoming webhook. Lines are packed into messages
 * of at most 4,000 characters (Slack's recommendation), `&`, `<` and `>` are escaped as Slack
 * requires (so a log line cannot `@channel` anyone), and requests are paced to one per second with
 * short bursts; a 429 waits the `Retry-After` Slack states. `push()` only queues; see
 * {@link NetworkLogHandlerOptions} for queueing, retries and `close()`.
 *
 * @example
 * ```ts
 * new SlackLogHandler(process.env.SLACK_WEBHOOK_URL!, { level: LogLevel.ERROR });
 * ```
 */
export class SlackLogHandler extends NetworkLogHandler {
  readonly #url: string;
  readonly #secrets: readonly string[];
  readonly #codeBlock: boolean;

  constructor(webhookUrl: string, options: SlackLogHandlerOptions = {}) {
    const { url, secrets, label } = SlackLogHandler.#parse(webhookUrl, options.baseUrl);
    super(options, {
      maxMessageChars: SLACK_MAX_TEXT,
      defaultMinIntervalMs: DEFAULT_MIN_INTERVAL_MS,
      defaultBurst: DEFAULT_BURST,
      label,
    });
    this.#url = url;
    this.#secrets = secrets;
    this.#codeBlock = options.codeBlock ?? false;
  }

  static #parse(webhookUrl: unknown, baseUrl: unknown): { url: string; secrets: string[]; label: string } {
    if (typeof webhookUrl !== "string" || webhookUrl === "") {
      throw new InvalidConfigError("webhookUrl", `expected ${describeAccepted()}, got ${typeof webhookUrl}`);
    }
    let parsed: URL;
    try {
      parsed = new URL(webhookUrl);
    } catch {
      throw new InvalidConfigError(
        "webhookUrl",
        `expected ${describeAccepted()}, got a string that is not a URL`,
      );
    }
    const secrets = [webhookUrl, parsed.href];
    if (baseUrl !== undefined) {
      if (typeof baseUrl !== "string" || !URL.canParse(baseUrl)) {
        throw new InvalidConfigError("baseUrl", `expected an absolute http(s) URL, got ${String(baseUrl)}`);
      }
      const base = new URL(baseUrl);
      const segments = parsed.pathname.split("/").filter(Boolean);
      if (
        (parsed.protocol !== "https:" && parsed.protocol !== "http:") ||
        !parsed.href.startsWith(base.href) ||
        parsed.href.length <= base.href.length
      ) {
        throw new InvalidConfigError(
          "webhookUrl",
          `expected a webhook URL under baseUrl ${base.href}, got a URL on ${parsed.host}`,
        );
      }
      secrets.push(parsed.href.slice(base.href.length));
      const last = segments.at(-1);
      if (last !== undefined && last.length >= 8) secrets.push(last);
      return { url: parsed.href, secrets, label: `Slack webhook at ${base.host}` };
    }
    const match = WEBHOOK_PATH.exec(parsed.pathname);
    if (parsed.protocol !== "https:" || parsed.hostname !== SLACK_HOST || parsed.port !== "" || !match) {
      const got =
        parsed.protocol !== "https:"
          ? `an ${parsed.protocol} URL`
          : parsed.hostname !== SLACK_HOST || parsed.port !== ""
            ? `a URL on ${parsed.host}`
            : "another path on hooks.slack.com";
      throw new InvalidConfigError("webhookUrl", `expected ${describeAccepted()}, got ${got}`);
    }
    secrets.push(match[1]!, match[1]!.split("/")[2]!);
    return { url: parsed.href, secrets, label: "Slack webhook" };
  }

  override secrets(): readonly string[] {
    return this.#secrets;
  }

  protected endpoint(): string {
    return this.#url;
  }

  protected body(text: string): unknown {
    return { text };
  }

  protected override escapeLine(line: string): string {
    // Slack's only required escapes; they also keep a line from forming <!channel> or a link.
    let out = line.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
    if (this.#codeBlock && out.includes(FENCE)) out = out.replaceAll(FENCE, "`\u200b`\u200b`");
    return out;
  }

  protected override wrap(text: string): string {
    return this.#codeBlock ? `${FENCE}\n${text}\n${FENCE}` : text;
  }

  protected override get wrapOverhead(): number {
    return this.#codeBlock ? FENCE.length * 2 + 2 : 0;
  }

  protected override cut(text: string, max: number): number {
    const at = cutIndex(text, max);
    // Do not cut inside an escape such as "&amp;": move the cut before its "&".
    const amp = text.lastIndexOf("&", at - 1);
    if (amp >= 0 && at - amp < 5 && amp > 0) {
      const semi = text.indexOf(";", amp);
      if (semi >= at) return amp;
    }
    return at;
  }

  protected override interpret(status: number, headers: Headers, body: string): NetworkVerdict {
    // 410 channel_is_archived: as gone as a 404.
    if (status === 410) return { kind: "stop", reason: `HTTP 410: ${body.slice(0, 300)}` };
    return super.interpret(status, headers, body);
  }
}
