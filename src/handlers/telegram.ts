// Compatibility path: src/cli/master.ts and test/fixtures import the handler from here. Remove once
// they import "./chat/telegram.js" (outside this branch's files).
export { TelegramLogHandler, type TelegramLogHandlerOptions } from "./chat/telegram.js";
