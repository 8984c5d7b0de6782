import { InvalidConfigError } from "../../errors.js";
import { retryAfterSecondsToMs } from "../kit/retry-after.js";
import { httpUrlOption } from "../kit/validate.js";
import { ChatLogHandler } from "./base.js";
import type { ChatLogHandlerOptions, ChatVerdict } from "./options.js";

/** Options for {@link TelegramLogHandler}. */
export interface TelegramLogHandlerOptions extends ChatLogHandlerOptions {
  /**
   * The Bot API server: Telegram's, or a self-hosted `telegram-bot-api` server (or a local test
   * server). The token goes into its path as `/bot<token>/sendMessage`.
   * @default "https://api.telegram.org"
   * @example { apiBase: "http://127.0.0.1:8081" }
   */
  apiBase?: string;
  /**
   * The chat is a group or channel: pace to Telegram's 20 messages per minute there instead of
   * one per second (unless `minIntervalMs` is given).
   * @default false
   * @example { group: true }
   */
  group?: boolean;
  /**
   * Deliver silently (no notification sound).
   * @default false
   * @example { disableNotification: true }
   */
  disableNotification?: boolean;
}

/** sendMessage takes 1-4096 characters of text (Bot API, sendMessage). */
const TELEGRAM_MAX_TEXT = 4096;

/** Bot FAQ: avoid more than one message per second in a chat... */
const PRIVATE_CHAT_INTERVAL_MS = 1000;
/** ...and no more than 20 messages per minute in a group. */
const GROUP_INTERVAL_MS = 3000;

const DEFAULT_API_BASE = "https://api.telegram.org";
/** `<bot id>:<secret>` as BotFather issues it. */
const TOKEN_SHAPE = /^\d+:[\w-]+$/;

interface TelegramAnswer {
  ok?: unknown;
  description?: unknown;
  parameters?: { retry_after?: unknown; migrate_to_chat_id?: unknown };
}

/**
 * Posts log lines to a Telegram chat through a bot (`sendMessage`, plain text, link previews off).
 * Lines are packed into messages of at most 4096 characters and paced to Telegram's per-chat
 * limits; a 429 waits the `retry_after` Telegram states. The bot token never appears in reports,
 * though it is part of every request URL. `push()` only queues; see
 * {@link ChatLogHandlerOptions} for queueing, retries and `close()`.
 *
 * @example
 * ```ts
 * new TelegramLogHandler(process.env.TELEGRAM_BOT_TOKEN!, -1001234567890, { group: true });
 * ```
 */
export class TelegramLogHandler extends ChatLogHandler {
  readonly #url: string;
  readonly #secrets: readonly string[];
  readonly #disableNotification: boolean;
  #chatId: number | string;

  constructor(botToken: string, chatId: number | string, options: TelegramLogHandlerOptions = {}) {
    if (typeof botToken !== "string" || !TOKEN_SHAPE.test(botToken)) {
      // The value is not echoed: a near-miss token is still a secret.
      throw new InvalidConfigError(
        "botToken",
        "expected a bot token as BotFather issues it (<digits>:<letters, digits, _ or ->)",
      );
    }
    if (
      !(typeof chatId === "number" && Number.isSafeInteger(chatId)) &&
      !(typeof chatId === "string" && /^(-?\d+|@\w+)$/.test(chatId))
    ) {
      throw new InvalidConfigError(
        "chatId",
        `expected a numeric chat id or "@channelusername", got ${String(chatId)}`,
      );
    }
    const base = httpUrlOption("apiBase", options.apiBase ?? DEFAULT_API_BASE, DEFAULT_API_BASE);
    super(options, {
      maxMessageChars: TELEGRAM_MAX_TEXT,
      defaultMinIntervalMs: options.group ? GROUP_INTERVAL_MS : PRIVATE_CHAT_INTERVAL_MS,
      defaultBurst: 1,
      service: `Telegram Bot API at ${base.host}`,
    });
    this.#url = `${base.href.replace(/\/+$/, "")}/bot${botToken}/sendMessage`;
    const secret = botToken.slice(botToken.indexOf(":") + 1);
    this.#secrets = [botToken, `bot${botToken}`, secret];
    this.#chatId = chatId;
    this.#disableNotification = options.disableNotification ?? false;
  }

  /** `TelegramLogHandler(chat -100123)`: which chat; the bot token never appears. */
  override get label(): string {
    return `${this.name}(chat ${String(this.#chatId)})`;
  }

  /** The chat messages go to (it changes if Telegram reports the group migrated to a supergroup). */
  get chatId(): number | string {
    return this.#chatId;
  }

  override secrets(): readonly string[] {
    return this.#secrets;
  }

  protected endpoint(): string {
    return this.#url;
  }

  protected body(text: string): unknown {
    const body: Record<string, unknown> = {
      chat_id: this.#chatId,
      text,
      link_preview_options: { is_disabled: true },
    };
    if (this.#disableNotification) body.disable_notification = true;
    return body;
  }

  protected override interpret(status: number, headers: Headers, body: string): ChatVerdict {
    let answer: TelegramAnswer = {};
    try {
      answer = JSON.parse(body) as TelegramAnswer;
    } catch {
      // A proxy's HTML error page: the status code alone decides.
    }
    if (status === 429) {
      const retryAfterMs = retryAfterSecondsToMs(answer.parameters?.retry_after);
      if (retryAfterMs !== undefined) return { kind: "rate-limited", retryAfterMs };
      return super.interpret(status, headers, body);
    }
    const migrated = answer.parameters?.migrate_to_chat_id;
    if (status === 400 && (typeof migrated === "number" || typeof migrated === "string")) {
      // A group upgraded to a supergroup has a new id; follow it once and tell the operator.
      this.warn(`chat ${String(this.#chatId)} migrated to ${String(migrated)}; update the configured chatId`);
      this.#chatId = migrated;
      return { kind: "retry", reason: "chat migrated to a supergroup" };
    }
    const description = typeof answer.description === "string" ? answer.description : "";
    const reason = `HTTP ${status}${description ? `: ${description}` : ""}`;
    if (status === 400 && /chat not found/i.test(description)) return { kind: "stop", reason };
    const verdict = super.interpret(status, headers, body);
    return verdict.kind === "sent" || verdict.kind === "rate-limited" ? verdict : { ...verdict, reason };
  }
}
