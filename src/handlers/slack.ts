// Compatibility path: src/cli/master.ts and test/fixtures import the handler from here. Remove once
// they import "./chat/slack.js" (outside this branch's files).
export { SlackLogHandler, type SlackLogHandlerOptions } from "./chat/slack.js";
