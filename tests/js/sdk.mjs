// Calls the official `pusher` npm SDK against a server: reads one JSON request on stdin,
// writes one JSON result per call on stdout.
// {"app": {appId, key, secret, host, port, encryptionMasterKeyBase64?}, "calls": [{"method", "args"}]}
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Pusher = require("pusher");

let input = "";
process.stdin.on("data", (chunk) => (input += chunk));
process.stdin.on("end", async () => {
  const { app, calls } = JSON.parse(input);
  const pusher = new Pusher({ useTLS: false, ...app });
  for (const { method, args } of calls) {
    try {
      const response = await pusher[method](...(args || []));
      const body = response && typeof response.text === "function" ? await response.text() : null;
      process.stdout.write(JSON.stringify({ ok: true, status: response ? response.status : null, body }) + "\n");
    } catch (error) {
      const status = error && error.status ? error.status : null;
      const body = error && error.body ? error.body : String(error && error.message || error);
      process.stdout.write(JSON.stringify({ ok: false, status, body }) + "\n");
    }
  }
});
