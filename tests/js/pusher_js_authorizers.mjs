// Asks an auth endpoint for tokens through the unmodified pusher-js and Laravel Echo authorizers.
//
// Usage: node pusher_js_authorizers.mjs '<json>' with {baseUrl, token, key, socketId, channels}.
// Prints one JSON object: what each authorizer's callback received, per channel and for sign-in.
// An ES module: laravel-echo's CommonJS build does not load under its "type": "module".
import Pusher from "pusher-js"
import Echo from "laravel-echo"

// Keep the clients from opening a WebSocket: only their HTTP authorizers are under test. The
// export is a subclass (PusherWithEncryption); the constructor reads the base class's flag.
Object.getPrototypeOf(Pusher).isReady = false
// Were a connection attempted anyway, it would stay on the loopback interface.
const offline = { cluster: "mt1", wsHost: "127.0.0.1", wsPort: 9, forceTLS: false }

const request = JSON.parse(process.argv[2])

function ask(authorize, params) {
  return new Promise((resolve) => {
    authorize(params, (error, data) => {
      resolve(error ? { error: { status: error.status, message: error.message } } : { data })
    })
  })
}

async function collect(client, channelNames) {
  const channels = {}
  for (const channelName of channelNames) {
    channels[channelName] = await ask(client.config.channelAuthorizer, {
      socketId: request.socketId,
      channelName,
    })
  }
  const user = await ask(client.config.userAuthenticator, { socketId: request.socketId })
  return { channels, user }
}

async function main() {
  const headers = request.token ? { Authorization: "Bearer " + request.token } : {}
  const pusher = new Pusher(request.key, {
    ...offline,
    channelAuthorization: { endpoint: request.baseUrl + "/broadcasting/auth", headers },
    userAuthentication: { endpoint: request.baseUrl + "/broadcasting/user-auth", headers },
  })

  // Echo's own defaults: /broadcasting/auth and /broadcasting/user-auth, bearerToken as header.
  const echo = new Echo({
    broadcaster: "pusher",
    key: request.key,
    ...offline,
    Pusher,
    bearerToken: request.token,
    authEndpoint: request.baseUrl + "/broadcasting/auth",
    userAuthentication: { endpoint: request.baseUrl + "/broadcasting/user-auth", headers: {} },
  })
  const echoNames = [
    echo.private("orders.1").name,
    echo.join("room.7").name,
    echo.encryptedPrivate("vault").name,
  ]

  const result = {
    pusherJs: await collect(pusher, request.channels),
    echoNames,
    echo: await collect(echo.connector.pusher, echoNames),
  }
  process.stdout.write(JSON.stringify(result) + "\n")
  pusher.disconnect()
  echo.disconnect()
}

main().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error) + "\n")
  process.exit(1)
})
