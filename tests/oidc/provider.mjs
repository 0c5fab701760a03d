// A real OpenID Connect provider for the sign-in tests (oauth2-mock-server).
//
//   node provider.mjs --claims /tmp/claims.json [--port 0] [--parent-pid 1234]
//
// Binds 127.0.0.1 only, on --port or (0, the default) a free port the system picks. The person it signs in is whoever the claims file describes
// ({"sub": "...", "email": "...", "email_verified": true, ...}): the file is read again for
// every token and userinfo request, so one provider serves several tests. It prints
// "READY <issuer url>" once listening, and stops on SIGTERM/SIGINT or when the parent
// process (the test run) is gone, so it never outlives the tests.

import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { OAuth2Server } from "oauth2-mock-server";

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    claims: { type: "string" },
    "parent-pid": { type: "string" },
  },
});
if (!values.claims) {
  console.error("usage: node provider.mjs --claims FILE [--port N] [--parent-pid PID]");
  process.exit(2);
}

const HOST = "127.0.0.1";
const claims = () => JSON.parse(readFileSync(values.claims, "utf8"));

const server = new OAuth2Server();
await server.issuer.keys.generate("RS256");

// The ID token and the access token carry the person's claims...
server.service.on("beforeTokenSigning", (token) => {
  Object.assign(token.payload, claims());
});
// ...and so does the userinfo endpoint, which allauth prefers.
server.service.on("beforeUserinfo", (userInfoResponse) => {
  userInfoResponse.body = claims();
});

await server.start(Number(values.port || 0), HOST);
// The issuer (and so every endpoint it advertises) is the address actually bound, not
// "localhost", which may resolve to ::1 first.
server.issuer.url = `http://${HOST}:${server.address().port}`;
console.log(`READY ${server.issuer.url}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  await server.stop();
  process.exit(0);
}
process.on("SIGTERM", stop);
process.on("SIGINT", stop);

const parent = Number(values["parent-pid"] || 0);
if (parent) {
  setInterval(() => {
    try {
      process.kill(parent, 0);
    } catch {
      stop();
    }
  }, 1000).unref();
}
