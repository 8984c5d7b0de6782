// Secrets the network handler tests hand to handlers; none may ever show up in output or errors.
export const DISCORD_WEBHOOK_ID = "112233445566778899";
export const DISCORD_TOKEN = "dIsCoRd-SeCrEt_T0ken-abcdefghijklmnopqrstuvwxyz0123456789ABCDEF";
export const TELEGRAM_TOKEN = "987654321:TeLeGrAm-SeCrEt_abcdefghijklmnopqrstu";
export const SLACK_SECRET = "SlAcKsEcReTxYz0123456789";
export const SLACK_PATH = `T00000000/B00000000/${SLACK_SECRET}`;

/** Every string whose presence in output means a leak. */
export const ALL_SECRETS = [DISCORD_TOKEN, TELEGRAM_TOKEN, TELEGRAM_TOKEN.split(":")[1]!, SLACK_SECRET];
