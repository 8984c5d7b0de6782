// Compatibility path: src/cli/master.ts and test/fixtures import the handler from here. Remove once
// they import "./chat/discord.js" (outside this branch's files).
export { DiscordLogHandler, type DiscordLogHandlerOptions } from "./chat/discord.js";
