// Validates webhook requests with the official `pusher` npm SDK's webhook(request).isValid().
// stdin: {"app": {appId, key, secret}, "requests": [{"headers": {...}, "body": "<raw>"}]}
// stdout: one {"valid": bool, "events": [...] | null} per request.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Pusher = require("pusher");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", () => {
  const { app, requests } = JSON.parse(input);
  const pusher = new Pusher({ ...app, host: "127.0.0.1" });
  for (const request of requests) {
    const webhook = pusher.webhook({ headers: request.headers, rawBody: request.body });
    const valid = webhook.isValid();
    process.stdout.write(JSON.stringify({ valid, events: valid ? webhook.getEvents() : null }) + "\n");
  }
});
