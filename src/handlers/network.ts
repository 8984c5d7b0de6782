// Compatibility path: test/fixtures/network-child.ts imports the chat base's type from here. Remove
// once it imports ChatLogHandler from "./chat/base.js" (outside this branch's files).
export type { ChatLogHandler as NetworkLogHandler } from "./chat/base.js";
