// Subscribes to helpdesk channels with pusher-js, as a browser would, and prints one JSON line
// per happening on stdout: {"type":"subscribed"|"refused"|"event"|"applied", ...}.
// argv[2] is a JSON config: {baseUrl, token, pusher: {key, wsHost, wsPort}, channels: [...]}.
"use strict";
const path = require("node:path");
const Pusher = require("pusher-js");
const { ChannelStream, apiFetcher } = require(
  path.join(__dirname, "../../../examples/helpdesk/web/static/catchup.js"),
);

const config = JSON.parse(process.argv[2]);
const say = (line) => process.stdout.write(JSON.stringify(line) + "\n");

const pusher = new Pusher(config.pusher.key, {
  wsHost: config.pusher.wsHost,
  wsPort: config.pusher.wsPort,
  forceTLS: false,
  enabledTransports: ["ws"],
  cluster: "mt1",
  channelAuthorization: {
    endpoint: `${config.baseUrl}/broadcasting/auth`,
    transport: "ajax",
    headers: { Authorization: `Bearer ${config.token}` },
  },
});

for (const name of config.channels) {
  const channel = pusher.subscribe(name);
  const stream = new ChannelStream({
    fetchSince: apiFetcher(config.baseUrl, name, config.token),
    onEvent: (event, data) => say({ type: "applied", channel: name, event, seq: data.seq, data }),
  });
  channel.bind("pusher:subscription_succeeded", () => {
    say({ type: "subscribed", channel: name });
    stream.catchUp().catch((error) => say({ type: "error", message: String(error) }));
  });
  channel.bind("pusher:subscription_error", (error) => {
    say({ type: "refused", channel: name, status: error.status });
  });
  channel.bind_global((event, data) => {
    if (event.startsWith("pusher:")) return;
    say({ type: "event", channel: name, event, seq: data && data.seq });
    stream.receive(event, data);
  });
}
pusher.connection.bind("state_change", (states) => say({ type: "state", state: states.current }));
process.stdin.on("end", () => {
  pusher.disconnect();
  process.exit(0);
});
process.stdin.resume();
