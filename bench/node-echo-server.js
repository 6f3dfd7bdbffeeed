// Node's own TLS server under the benchmark's contract:
//   node node-echo-server.js --port P --key KEY.pem --cert CERT.pem [--sink | --source N]
// Listens on 127.0.0.1:P; echoes with socket.pipe(socket) (--sink: reads and discards;
// --source N: sends N bytes of the pattern, byte i = (i*31+7) % 251, then ends);
// closes once the client has ended; stops on SIGTERM/SIGINT. Node's defaults otherwise:
// what a Node program gets from tls.createServer.
'use strict';
const tls = require('tls');
const fs = require('fs');

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const port = Number(opt('--port') || 0);
const sink = args.includes('--sink');
const source = opt('--source') !== undefined ? Number(opt('--source')) : -1;

// One period of the pattern plus a chunk: any chunk at any offset is one slice of it.
const CHUNK = 65536;
const pattern = Buffer.alloc(CHUNK + 251);
for (let i = 0; i < pattern.length; i++) pattern[i] = (i * 31 + 7) % 251;

// Writes `total` pattern bytes as fast as the socket drains, then close_notify and FIN.
function sendSource(socket, total) {
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      const n = Math.min(CHUNK, total - sent);
      const start = sent % 251;
      sent += n;
      if (!socket.write(pattern.subarray(start, start + n))) return socket.once('drain', pump);
    }
    socket.end();
  };
  pump();
}

const server = tls.createServer({
  key: fs.readFileSync(opt('--key')), cert: fs.readFileSync(opt('--cert')), noDelay: true,
}, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  if (source >= 0) { socket.resume(); sendSource(socket, source); }
  else if (sink) socket.resume();  // allowHalfOpen is false: Node ends when the client does
  else socket.pipe(socket);
});
server.on('tlsClientError', () => {});
server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
});

// Stop accepting, let open connections finish for up to a second, then exit 0.
const stop = () => {
  server.close(() => process.exit(0));
  setTimeout(() => process.exit(0), 1000).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
