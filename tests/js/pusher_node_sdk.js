// Answers signing requests with the unmodified pusher-http-node SDK, one JSON line in, one out.
//
// Requests: {"op": "authorizeChannel" | "authenticateUser" | "webhook" | "signedQuery", ...}.
// Replies: {"result": ...} or {"error": "<message the SDK threw>"}.
"use strict"

const readline = require("readline")
const Pusher = require("pusher")

function client(request) {
  const options = { appId: "1", key: request.key, secret: request.secret }
  if (request.masterKeyBase64 !== undefined) {
    options.encryptionMasterKeyBase64 = request.masterKeyBase64
  }
  return new Pusher(options)
}

const operations = {
  authorizeChannel(request) {
    return client(request).authorizeChannel(request.socketId, request.channel, request.data)
  },
  authenticateUser(request) {
    return client(request).authenticateUser(request.socketId, request.user)
  },
  webhook(request) {
    const webhook = client(request).webhook({
      headers: {
        "x-pusher-key": request.headerKey,
        "x-pusher-signature": request.signature,
        "content-type": "application/json",
      },
      rawBody: request.body,
    })
    return { valid: webhook.isValid(), signature: new Pusher.Token(request.key, request.secret).sign(request.body) }
  },
  signedQuery(request) {
    // The SDK reads the clock itself; pin it so both sides sign the same auth_timestamp.
    const now = Date.now
    Date.now = () => request.timestamp * 1000
    try {
      return client(request).createSignedQueryString({
        method: request.method,
        path: request.path,
        params: request.params,
        body: request.body,
      })
    } finally {
      Date.now = now
    }
  },
}

const lines = readline.createInterface({ input: process.stdin })
lines.on("line", (line) => {
  const request = JSON.parse(line)
  let reply
  try {
    reply = { result: operations[request.op](request) }
  } catch (error) {
    reply = { error: String(error && error.message ? error.message : error) }
  }
  process.stdout.write(JSON.stringify(reply) + "\n")
})
