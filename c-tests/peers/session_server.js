// Node's tls.createServer as a resumption peer: prints {"port":N}; every secure connection
// is told what the server saw ("R1" resumed, "R0" full handshake), then ended. Exits when
// stdin closes. usage: node session_server.js CERT_DIR
'use strict';
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const read = (f) => fs.readFileSync(path.join(dir, f));
const server = tls.createServer({ key: read('server-ec-key.pem'), cert: read('server-ec-cert.pem') }, (socket) => {
  socket.on('error', () => {});
  socket.end(socket.isSessionReused() ? 'R1' : 'R0');
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.stdin.resume();
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(3), 60000).unref();
