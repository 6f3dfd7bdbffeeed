// Node's tls over a Unix-domain socket, for nodetls's `path` and `listen_path`.
// usage: node node_path.js server CERT_DIR PATH  -> an echo server; prints {"listening":PATH}, serves until stdin closes
//        node node_path.js client CA_FILE PATH   -> echoes a message through PATH, prints one JSON line
'use strict';
const tls = require('tls');
const fs = require('fs');
const [mode, file, path] = process.argv.slice(2);
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(2); }, 20000).unref();
if (mode === 'server') {
  const server = tls.createServer({
    key: fs.readFileSync(`${file}/server-ec-key.pem`), cert: fs.readFileSync(`${file}/server-ec-cert.pem`),
  }, (socket) => {
    socket.on('error', () => {});
    socket.pipe(socket);
  });
  server.listen(path, () => console.log(JSON.stringify({ listening: server.address() })));
  process.stdin.on('end', () => server.close(() => process.exit(0)));
  process.stdin.resume();
} else {
  const message = 'hello over a unix socket '.repeat(2000);
  let echoed = '';
  let facts = {};
  const socket = tls.connect({ path, servername: 'localhost', ca: fs.readFileSync(file) }, () => {
    facts = { authorized: socket.authorized, protocol: socket.getProtocol(), remote: socket.remoteAddress === undefined ? 'none' : socket.remoteAddress };
    socket.write(message);
  });
  socket.setEncoding('utf8');
  socket.on('data', (d) => { echoed += d; if (echoed.length >= message.length) socket.end(); });
  socket.on('close', () => console.log(JSON.stringify({ ...facts, echo_ok: echoed === message })));
  socket.on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); process.exit(1); });
}
