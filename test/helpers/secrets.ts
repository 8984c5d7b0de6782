// Secrets the network handler tests hand to handlers; none may ever show up in output or errors.
export const DISCORD_WEBHOOK_ID = "112233445566778899";
export const DISCORD_TOKEN = "dIsCoRd-SeCrEt_T0ken-abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
export const TELEGRAM_TOKEN = "987654321:TeLeGrAm-SeCrEt_abcdefghijklmnopqrstu";
export const SLACK_SECRET = "SlAcKsEcReTxYz0123456789";
export const SLACK_PATH = `T00000000/B00000000/${SLACK_SECRET}`;

/** Every string whose presence in output means a leak. */
export const ALL_SECRETS = [DISCORD_TOKEN, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]!, SLACK_SECRET];

/**
 * An error body with `secret` straddling character `cut`: half of it before, half after. A
 * handler that cuts the body at `cut` before redacting keeps a piece the redactor cannot match.
 */
export function bodyWithSecretAcross(secret: string, cut: number): string {
  const start = cut - Math.floor(secret.length / 2);
  return `${"e".repeat(start)}${secret} and the rest of the error`;
}

/** Every piece of `secret` of `minChars` or more that appears in `text` (none means no leak). */
export function secretPieces(text: string, secret: string, minChars = 8): string[] {
  const found: string[] = [];
  for (let at = 0; at + minChars <= secret.length; at++) {
    const piece = secret.slice(at, at + minChars);
    if (text.includes(piece)) found.push(piece);
  }
  return found;
}
