// Node's tls.createServer for nodetls clients: an echo server with ALPN, plus servers with
// bad certificates whose error codes Node reports to its own client, for comparison.
// usage: node node_server.js CERT_DIR   -> prints one JSON line, then serves until stdin closes
'use strict';
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const dir = process.argv[2];
const read = (f) => fs.readFileSync(path.join(dir, f));

function serve(name, opts) {
  return new Promise((resolve) => {
    const server = tls.createServer({ key: read(`${name}-key.pem`), cert: read(`${name}-cert.pem`), ...opts },
      (socket) => socket.pipe(socket));
    server.on('tlsClientError', () => {});
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}

function nodeVerdict(port, servername) {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, ca: read('ca-cert.pem') },
      () => { resolve('OK'); s.end(); });
    s.on('error', (e) => resolve(e.code));
  });
}

(async () => {
  const echo = await serve('server-ec', { ALPNProtocols: ['http/1.1'] });
  const out = { echo: echo.address().port, codes: {}, ports: {} };
  for (const [name, servername] of [['selfsigned', 'localhost'], ['wronghost', 'localhost'], ['expired', 'localhost']]) {
    const srv = await serve(name, {});
    out.ports[name] = srv.address().port;
    out.codes[name] = await nodeVerdict(srv.address().port, servername);
  }
  console.log(JSON.stringify(out));
  process.stdin.resume();
  process.stdin.on('end', () => process.exit(0));
})();
setTimeout(() => process.exit(3), 60000).unref();
