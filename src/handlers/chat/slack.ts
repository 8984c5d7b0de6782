import { reportedBody } from "../kit/reported-body.js";
import { ChatLogHandler } from "./base.js";
import { CodeBlock } from "./code-block.js";
import { cutIndex } from "./line-queue.js";
import type { ChatLogHandlerOptions, ChatVerdict } from "./options.js";
import { parseWebhookUrl, type WebhookRules } from "./webhook-url.js";

/** Options for {@link SlackLogHandler}. */
export interface SlackLogHandlerOptions extends ChatLogHandlerOptions {
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

const SLACK_WEBHOOKS: WebhookRules = {
  service: "Slack",
  hosts: new Set(["hooks.slack.com"]),
  path: /^\/services\/([\w-]+\/[\w-]+\/[\w-]+)\/?$/,
  accepted: "https://hooks.slack.com/services/<team>/<bot>/<secret>, or a URL under the baseUrl option",
  baseSuffix: "",
  baseTokenRequired: false,
  pathSecrets: (match) => [match[1]!, match[1]!.split("/")[2]!],
  // The team id is no secret (it is in every Slack URL of the workspace); bot id and secret are.
  shownPath: (match) => `/services/${match[1]!.split("/")[0]}/…`,
};

/**
 * Posts log lines to a Slack channel through an incoming webhook. Lines are packed into messages
 * of at most 4,000 characters (Slack's recommendation), `&`, `<` and `>` are escaped as Slack
 * requires (so a log line cannot `@channel` anyone), and requests are paced to one per second with
 * short bursts; a 429 waits the `Retry-After` Slack states. `push()` only queues; see
 * {@link ChatLogHandlerOptions} for queueing, retries and `close()`.
 *
 * @example
 * ```ts
 * new SlackLogHandler(process.env.SLACK_WEBHOOK_URL!, { level: LogLevel.ERROR });
 * ```
 */
export class SlackLogHandler extends ChatLogHandler {
  readonly #url: string;
  readonly #secrets: readonly string[];
  readonly #codeBlock: CodeBlock;
  readonly #shown: string;

  constructor(webhookUrl: string, options: SlackLogHandlerOptions = {}) {
    const { url, secrets, service, shown } = parseWebhookUrl(webhookUrl, options.baseUrl, SLACK_WEBHOOKS);
    super(options, {
      maxMessageChars: SLACK_MAX_TEXT,
      defaultMinIntervalMs: DEFAULT_MIN_INTERVAL_MS,
      defaultBurst: DEFAULT_BURST,
      service,
    });
    this.#url = url;
    this.#secrets = secrets;
    this.#shown = shown;
    this.#codeBlock = new CodeBlock(options.codeBlock);
  }

  /** `SlackLogHandler(hooks.slack.com/services/T0123/…)`: which webhook, never its secret. */
  override get label(): string {
    return `${this.name}(${this.#shown})`;
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
    return this.#codeBlock.escape(
      line.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;"),
    );
  }

  protected override wrap(text: string): string {
    return this.#codeBlock.wrap(text);
  }

  protected override get wrapOverhead(): number {
    return this.#codeBlock.overhead;
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

  protected override interpret(status: number, headers: Headers, body: string): ChatVerdict {
    // 410 channel_is_archived: as gone as a 404.
    if (status === 410) return { kind: "stop", reason: `HTTP 410: ${reportedBody(body, this.secrets())}` };
    return super.interpret(status, headers, body);
  }
}
