// Node's tls.createServer as the reference for tlsClientError: prints {"port":N}, then for each
// line "stats" on stdin one JSON line {secure, clientErrors, codes}; exits when stdin closes.
// usage: node client_error_server.js CERT_DIR
'use strict';
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const read = (f) => fs.readFileSync(path.join(dir, f));
const stats = { secure: 0, clientErrors: 0, codes: {} };
let open = 0;
const server = tls.createServer({ key: read('server-ec-key.pem'), cert: read('server-ec-cert.pem') }, (socket) => {
  stats.secure++;
  socket.on('error', () => {});
  socket.resume();
});
server.on('connection', (raw) => { open++; raw.on('close', () => { open--; }); });
server.on('tlsClientError', (err) => {
  stats.clientErrors++;
  const code = err.code || err.message;
  stats.codes[code] = (stats.codes[code] || 0) + 1;
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
let buf = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (d) => {
  buf += d;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    buf = buf.slice(nl + 1);
    // Answer once every connection seen so far has closed (bounded wait).
    const started = Date.now();
    const answer = () => {
      if (open > 0 && Date.now() - started < 5000) return setTimeout(answer, 10);
      console.log(JSON.stringify({ ...stats, open }));
    };
    answer();
  }
});
process.stdin.on('end', () => process.exit(0));
setTimeout(() => process.exit(3), 60000).unref();
