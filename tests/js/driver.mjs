// Drives unmodified pusher-js (and Laravel Echo on top of it) for the Python tests.
// Reads one JSON command per line on stdin; writes one JSON report per line on stdout.
//
// Commands: {"op": "...", "client": "<name>", ...}
//   connect      key, options (pusher-js options), sdk? {appId, key, secret, encryptionMasterKeyBase64?}
//                 - with sdk, channel authorization and user authentication are answered in process by
//                   the official `pusher` npm SDK (authorizeChannel / authenticateUser), user from `user`
//                 presenceFromSignin? true: presence tokens carry no channel_data, so pusher-js
//                   subscribes as the signed-in user (PROTOCOL.md §8.5)
//                 echo? true: wrap the client in Laravel Echo (options are Echo's)
//   subscribe    channel, bind?               -> reports every event on the channel; events in
//                                                `bind` are also reported as "bound", with metadata
//   unsubscribe  channel
//   trigger      channel, event, data         (client event)
//   signin
//   members      channel                      -> {"type":"members", members, me, count}
//   state                                     -> {"type":"state", current, socket_id}
//   disconnect
//   echo         method, args: Laravel Echo calls, e.g. {"method":"private","channel":"orders.1","listen":"OrderShipped"}
//   exit
import readline from "node:readline";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Pusher = require("pusher-js");
const PusherSdk = require("pusher");

const clients = new Map();

function report(value) {
  process.stdout.write(JSON.stringify(value) + "\n");
}

function sdkHandlers(sdkOptions, user, presenceFromSignin) {
  const sdk = new PusherSdk({
    appId: sdkOptions.appId,
    key: sdkOptions.key,
    secret: sdkOptions.secret,
    host: "127.0.0.1",
    encryptionMasterKeyBase64: sdkOptions.encryptionMasterKeyBase64,
  });
  return {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        try {
          const presence = channelName.startsWith("presence-") && user && !presenceFromSignin ? { user_id: user.id, user_info: user.user_info } : undefined;
          callback(null, sdk.authorizeChannel(socketId, channelName, presence));
        } catch (error) {
          callback(error, null);
        }
      },
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) => {
        try {
          callback(null, sdk.authenticateUser(socketId, user));
        } catch (error) {
          callback(error, null);
        }
      },
    },
  };
}

function bindChannel(name, channel) {
  channel.bind_global((event, data, metadata) => {
    report({ type: "event", client: name, channel: channel.name, event, data: data === undefined ? null : data, metadata: metadata || null });
  });
}

async function connect(cmd) {
  const name = cmd.client;
  let options = { ...(cmd.options || {}) };
  if (cmd.sdk) options = { ...options, ...sdkHandlers(cmd.sdk, cmd.user, cmd.presenceFromSignin) };
  let pusher;
  let echo = null;
  if (cmd.echo) {
    const { default: Echo } = await import("laravel-echo");
    echo = new Echo({ broadcaster: "pusher", key: cmd.key, Pusher, ...options });
    pusher = echo.connector.pusher;
  } else {
    pusher = new Pusher(cmd.key, options);
  }
  const entry = { pusher, echo, channels: new Map() };
  clients.set(name, entry);
  pusher.connection.bind("state_change", (states) => {
    report({ type: "state", client: name, previous: states.previous, current: states.current, socket_id: pusher.connection.socket_id || null });
  });
  pusher.connection.bind("error", (error) => {
    const data = error && error.data ? error.data : null;
    report({ type: "error", client: name, error: { type: error && error.type, data } });
  });
  pusher.bind_global((event, data) => {
    report({ type: "global", client: name, event, data: data === undefined ? null : data });
  });
  pusher.user.bind_global((event, data) => {
    report({ type: "user", client: name, event, data: data === undefined ? null : data });
  });
  pusher.user.watchlist.bind("online", (data) => report({ type: "watchlist", client: name, name: "online", data }));
  pusher.user.watchlist.bind("offline", (data) => report({ type: "watchlist", client: name, name: "offline", data }));
}

function handleEcho(entry, cmd) {
  const name = cmd.client;
  const echo = entry.echo;
  const reportEcho = (kind) => (data) => report({ type: "echo", client: name, channel: cmd.channel, kind, data: data === undefined ? null : data });
  let channel;
  if (cmd.method === "private") channel = echo.private(cmd.channel);
  else if (cmd.method === "channel") channel = echo.channel(cmd.channel);
  else if (cmd.method === "encryptedPrivate") channel = echo.encryptedPrivate(cmd.channel);
  else if (cmd.method === "join") {
    channel = echo.join(cmd.channel);
    channel.here(reportEcho("here")).joining(reportEcho("joining")).leaving(reportEcho("leaving"));
  } else if (cmd.method === "whisper") {
    echo.private(cmd.channel).whisper(cmd.event, cmd.data);
    return;
  } else if (cmd.method === "joinWhisper") {
    echo.join(cmd.channel).whisper(cmd.event, cmd.data);
    return;
  } else if (cmd.method === "leave") {
    echo.leave(cmd.channel);
    return;
  } else throw new Error(`unknown echo method ${cmd.method}`);
  channel.subscribed(() => report({ type: "echo", client: name, channel: cmd.channel, kind: "subscribed", data: null }));
  channel.error((error) => report({ type: "echo", client: name, channel: cmd.channel, kind: "error", data: error }));
  for (const event of cmd.listen || []) channel.listen(event, reportEcho(`listen:${event}`));
  for (const event of cmd.listenForWhisper || []) channel.listenForWhisper(event, reportEcho(`whisper:${event}`));
  if (cmd.notification) channel.notification(reportEcho("notification"));
}

async function handle(cmd) {
  const entry = clients.get(cmd.client);
  switch (cmd.op) {
    case "connect":
      await connect(cmd);
      break;
    case "subscribe": {
      const channel = entry.pusher.subscribe(cmd.channel);
      bindChannel(cmd.client, channel);
      // bind_global handlers get no metadata; a specific binding gets (data, metadata).
      for (const event of cmd.bind || []) {
        channel.bind(event, (data, metadata) => report({ type: "bound", client: cmd.client, channel: cmd.channel, event, data: data === undefined ? null : data, metadata: metadata || null }));
      }
      entry.channels.set(cmd.channel, channel);
      break;
    }
    case "unsubscribe":
      entry.pusher.unsubscribe(cmd.channel);
      break;
    case "trigger": {
      const ok = entry.pusher.channel(cmd.channel).trigger(cmd.event, cmd.data);
      report({ type: "triggered", client: cmd.client, ok });
      break;
    }
    case "signin":
      entry.pusher.signin();
      break;
    case "members": {
      const channel = entry.pusher.channel(cmd.channel);
      const members = {};
      channel.members.each((member) => { members[member.id] = member.info === undefined ? null : member.info; });
      report({ type: "members", client: cmd.client, channel: cmd.channel, members, count: channel.members.count, me: channel.members.me || null });
      break;
    }
    case "state":
      report({ type: "state", client: cmd.client, current: entry.pusher.connection.state, socket_id: entry.pusher.connection.socket_id || null });
      break;
    case "echo":
      handleEcho(entry, cmd);
      break;
    case "disconnect":
      entry.pusher.disconnect();
      break;
    case "exit":
      for (const { pusher } of clients.values()) pusher.disconnect();
      report({ type: "bye" });
      setTimeout(() => process.exit(0), 50);
      break;
    default:
      throw new Error(`unknown op ${cmd.op}`);
  }
  report({ type: "ack", client: cmd.client || null, op: cmd.op, seq: cmd.seq ?? null });
}

const lines = readline.createInterface({ input: process.stdin });
let queue = Promise.resolve();
lines.on("line", (line) => {
  if (!line.trim()) return;
  queue = queue.then(async () => {
    let cmd;
    try {
      cmd = JSON.parse(line);
      await handle(cmd);
    } catch (error) {
      report({ type: "failure", op: cmd && cmd.op, message: String(error && error.stack || error) });
    }
  });
});
lines.on("close", () => process.exit(0));
report({ type: "ready" });
