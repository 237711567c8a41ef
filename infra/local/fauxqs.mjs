// fauxqs.mjs starts fauxqs (SQS + S3 emulator) bound to 127.0.0.1 only.
//
// fauxqs 1.9.2's startFauxqs() calls fastify's app.listen({port, host: "0.0.0.0"}),
// which would expose the emulator on every interface. Fastify ends up calling
// net.Server.prototype.listen with an options object carrying that host, so this
// launcher wraps listen() before importing fauxqs: every TCP options object (one
// without a Unix socket path) gets host 127.0.0.1, whatever host it asked for.
//
// Usage: node infra/local/fauxqs.mjs [port]   (or FAUXQS_PORT=port; default 4566)
// Health: GET http://127.0.0.1:<port>/health -> {"status":"ok"}
import net from "node:net";

const LOOPBACK = "127.0.0.1";

const listen = net.Server.prototype.listen;
net.Server.prototype.listen = function loopbackListen(...args) {
  const [first] = args;
  if (first !== null && typeof first === "object" && first.path === undefined) {
    args[0] = { ...first, host: LOOPBACK };
  }
  return listen.apply(this, args);
};

const { startFauxqs } = await import("fauxqs");

const port = Number.parseInt(process.argv[2] ?? process.env.FAUXQS_PORT ?? "4566", 10);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`fauxqs: invalid port ${JSON.stringify(process.argv[2] ?? process.env.FAUXQS_PORT)}`);
  process.exit(2);
}

const server = await startFauxqs({ port, logger: false });
console.log(`fauxqs listening on http://${LOOPBACK}:${server.port}`);

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.stop().finally(() => process.exit(0));
  });
}
