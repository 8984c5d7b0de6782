import { InvalidConfigError } from "../../errors.js";

/** What makes a URL one service's webhook. */
export interface WebhookRules {
  /** "Discord", "Slack": used in the handler's label. */
  readonly service: string;
  /** Hosts an official webhook URL may have (https, default port). */
  readonly hosts: ReadonlySet<string>;
  /** Pattern of an official webhook URL's path. */
  readonly path: RegExp;
  /** How an accepted URL looks, for error messages (never echoes what was given). */
  readonly accepted: string;
  /** What follows `baseUrl` in a proxied webhook URL, for error messages, e.g. "<id>/<token>". */
  readonly baseSuffix: string;
  /** Whether a proxied URL must end in a token segment. */
  readonly baseTokenRequired: boolean;
  /** The secret parts of an official URL, from its path match. */
  pathSecrets(match: RegExpExecArray): string[];
  /** An official URL's path with its secret part as "…", for the handler's label. */
  shownPath(match: RegExpExecArray): string;
}

export interface ParsedWebhook {
  url: string;
  /** Everything the master must redact: the URL as given and normalised, and its secret parts. */
  secrets: string[];
  /** Safe to print: says where, never the token, e.g. "Discord webhook at 127.0.0.1:8080". */
  service: string;
  /** The URL with its secret part as "…", e.g. "discord.com/api/webhooks/123/…". */
  shown: string;
}

/**
 * Validates a webhook URL against a service's rules, or against `baseUrl` (a self-hosted proxy,
 * tests) when given. Errors name the field and what is accepted, and never contain the URL.
 */
export function parseWebhookUrl(webhookUrl: unknown, baseUrl: unknown, rules: WebhookRules): ParsedWebhook {
  if (typeof webhookUrl !== "string" || webhookUrl === "") {
    throw new InvalidConfigError("webhookUrl", `expected ${rules.accepted}, got ${typeof webhookUrl}`);
  }
  let parsed: URL;
  try {
    parsed = new URL(webhookUrl);
  } catch {
    throw new InvalidConfigError("webhookUrl", `expected ${rules.accepted}, got a string that is not a URL`);
  }
  const secrets = [webhookUrl, parsed.href];
  if (baseUrl !== undefined) {
    if (typeof baseUrl !== "string" || !URL.canParse(baseUrl)) {
      throw new InvalidConfigError("baseUrl", `expected an absolute http(s) URL, got ${String(baseUrl)}`);
    }
    const base = new URL(baseUrl);
    const token = parsed.pathname.split("/").filter(Boolean).at(-1);
    const under = parsed.href.startsWith(base.href) && parsed.href.length > base.href.length;
    if (
      (parsed.protocol !== "https:" && parsed.protocol !== "http:") ||
      !under ||
      (rules.baseTokenRequired && token === undefined)
    ) {
      throw new InvalidConfigError(
        "webhookUrl",
        `expected a webhook URL under baseUrl ${base.href}${rules.baseSuffix}, got a URL on ${parsed.host}${
          parsed.href.startsWith(base.href) ? " with no token" : ""
        }`,
      );
    }
    secrets.push(parsed.href.slice(base.href.length));
    // A short last segment under a proxy is a path word, not a token; redacting it would shred text.
    if (token !== undefined && (rules.baseTokenRequired || token.length >= 8)) secrets.push(token);
    return {
      url: parsed.href,
      secrets,
      service: `${rules.service} webhook at ${base.host}`,
      shown: `${base.host}${base.pathname.replace(/\/?$/, "/")}…`,
    };
  }
  const match = rules.path.exec(parsed.pathname);
  const officialHost = rules.hosts.has(parsed.hostname) && parsed.port === "";
  if (parsed.protocol !== "https:" || !officialHost || !match) {
    const got =
      parsed.protocol !== "https:"
        ? `an ${parsed.protocol} URL`
        : !officialHost
          ? `a URL on ${parsed.host}`
          : `another path on ${parsed.hostname}`;
    throw new InvalidConfigError("webhookUrl", `expected ${rules.accepted}, got ${got}`);
  }
  secrets.push(...rules.pathSecrets(match));
  return {
    url: parsed.href,
    secrets,
    service: `${rules.service} webhook`,
    shown: `${parsed.hostname}${rules.shownPath(match)}`,
  };
}
