import { parseRetryAfter, retryAfterSecondsToMs } from "../kit/retry-after.js";
import { stringOption } from "../kit/validate.js";
import { ChatLogHandler } from "./base.js";
import { CodeBlock } from "./code-block.js";
import type { ChatLogHandlerOptions, ChatVerdict } from "./options.js";
import { parseWebhookUrl, type WebhookRules } from "./webhook-url.js";

/** Options for {@link DiscordLogHandler}. */
export interface DiscordLogHandlerOptions extends ChatLogHandlerOptions {
  /**
   * Accept a webhook URL under this base instead of Discord's own (a self-hosted proxy, or a
   * local test server). The webhook token is still taken as the URL's last path segment.
   * @default undefined (only https://discord.com/api/webhooks/… and https://discordapp.com/api/webhooks/…)
   * @example { baseUrl: "https://discord-proxy.internal/api/webhooks/" }
   */
  baseUrl?: string;
  /**
   * Send each message as a code block (monospace, no markdown); the fences count toward the
   * 2000-character limit.
   * @default false
   * @example { codeBlock: true }
   */
  codeBlock?: boolean;
  /**
   * Name the messages are posted under, instead of the webhook's own.
   * @default undefined (the webhook's configured name)
   * @example { username: "api-prod logs" }
   */
  username?: string;
}

/** Discord rejects message content over 2000 characters (Execute Webhook, `content`). */
const DISCORD_MAX_CONTENT = 2000;

/**
 * Discord asks clients to follow the `X-RateLimit-*` headers rather than hard-code limits; webhook
 * buckets have been 5 requests per 2 s, and a channel takes about 30 webhook messages per minute,
 * which a 2 s interval with a burst of 5 stays under.
 */
const DEFAULT_MIN_INTERVAL_MS = 2000;
const DEFAULT_BURST = 5;

const DISCORD_WEBHOOKS: WebhookRules = {
  service: "Discord",
  hosts: new Set(["discord.com", "discordapp.com"]),
  path: /^\/api(?:\/v\d+)?\/webhooks\/(\d+)\/([\w-]+)\/?$/,
  accepted:
    "https://discord.com/api/webhooks/<id>/<token> (or discordapp.com), or a URL under the baseUrl option",
  baseSuffix: "<id>/<token>",
  baseTokenRequired: true,
  pathSecrets: (match) => [`${match[1]}/${match[2]}`, match[2]!],
  shownPath: (match) => `/api/webhooks/${match[1]}/…`,
};

/**
 * Posts log lines to a Discord channel through a webhook. Lines are packed into messages of at
 * most 2000 characters, paced under Discord's rate limits (it reads the `X-RateLimit-*` headers
 * and waits out a spent bucket before the next request, rather than collecting 429s, which Discord
 * punishes with a temporary ban), and never ping anyone (`allowed_mentions` is empty).
 * `push()` only queues; see {@link ChatLogHandlerOptions} for queueing, retries and `close()`.
 *
 * @example
 * ```ts
 * new DiscordLogHandler(process.env.DISCORD_WEBHOOK_URL!, { level: LogLevel.ERROR, codeBlock: true });
 * ```
 */
export class DiscordLogHandler extends ChatLogHandler {
  readonly #url: string;
  readonly #secrets: readonly string[];
  readonly #codeBlock: CodeBlock;
  readonly #username: string | undefined;
  readonly #shown: string;

  constructor(webhookUrl: string, options: DiscordLogHandlerOptions = {}) {
    const { url, secrets, service, shown } = parseWebhookUrl(webhookUrl, options.baseUrl, DISCORD_WEBHOOKS);
    super(options, {
      maxMessageChars: DISCORD_MAX_CONTENT,
      defaultMinIntervalMs: DEFAULT_MIN_INTERVAL_MS,
      defaultBurst: DEFAULT_BURST,
      service,
    });
    this.#url = url;
    this.#secrets = secrets;
    this.#shown = shown;
    this.#codeBlock = new CodeBlock(options.codeBlock);
    this.#username = stringOption("username", options.username, undefined);
  }

  /** `DiscordLogHandler(discord.com/api/webhooks/123/…)`: which webhook, never its token. */
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
    const body: Record<string, unknown> = { content: text, allowed_mentions: { parse: [] } };
    if (this.#username !== undefined) body.username = this.#username;
    return body;
  }

  protected override escapeLine(line: string): string {
    return this.#codeBlock.escape(line);
  }

  protected override wrap(text: string): string {
    return this.#codeBlock.wrap(text);
  }

  protected override get wrapOverhead(): number {
    return this.#codeBlock.overhead;
  }

  protected override observe(_status: number, headers: Headers): void {
    // Remaining 0 means the next request in this bucket would be a 429: wait out the reset first.
    const remaining = headers.get("x-ratelimit-remaining");
    const resetAfterMs = parseRetryAfter(headers.get("x-ratelimit-reset-after"));
    if (remaining !== null && Number(remaining) <= 0 && resetAfterMs !== undefined)
      this.holdFor(resetAfterMs);
  }

  protected override interpret(status: number, headers: Headers, body: string): ChatVerdict {
    if (status === 429) {
      // The body's retry_after is in seconds with a fraction; Retry-After is the header form.
      let retryAfterMs: number | undefined;
      try {
        retryAfterMs = retryAfterSecondsToMs((JSON.parse(body) as { retry_after?: unknown }).retry_after);
      } catch {
        // Not JSON (a proxy or Cloudflare page): fall back to the headers.
      }
      // X-RateLimit-Reset-After is delta-seconds with a fraction, the same grammar as Retry-After.
      retryAfterMs ??=
        parseRetryAfter(headers.get("retry-after")) ??
        parseRetryAfter(headers.get("x-ratelimit-reset-after"));
      return { kind: "rate-limited", retryAfterMs };
    }
    const verdict = super.interpret(status, headers, body);
    if (verdict.kind === "stop" && status === 404) {
      return { kind: "stop", reason: `${verdict.reason} (the webhook was deleted, or the URL is wrong)` };
    }
    if (verdict.kind === "stop" && status === 401) {
      return { kind: "stop", reason: `${verdict.reason} (the webhook token is invalid)` };
    }
    return verdict;
  }
}
