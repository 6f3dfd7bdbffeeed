// Node's tls peers for nodetls's stream controls (destroySoon, allowHalfOpen, bind options).
// usage: node stream_peer.js count CERT_DIR
//          a server on 127.0.0.1:0 that only reads; prints {"port":N}, then per connection
//          {"received":BYTES,"end":true|false,"remotePort":P}; serves until stdin closes.
//        node stream_peer.js halfserver CERT_DIR [PATH]
//          an allowHalfOpen server (TCP, and on PATH when given) that sends "ping" and ends
//          at once; prints {"port":N}, then per connection {"got":TEXT} once it closed.
//        node stream_peer.js halfclient CA_FILE TARGET...
//          for each TARGET (a port or a path), an allowHalfOpen client that sends "ping" and
//          ends at once; prints {"target":T,"got":TEXT} per connection, one after the other.
'use strict';
const tls = require('tls');
const fs = require('fs');
const [mode, file, ...rest] = process.argv.slice(2);
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(2); }, 30000).unref();
const creds = () => ({ key: fs.readFileSync(`${file}/server-ec-key.pem`), cert: fs.readFileSync(`${file}/server-ec-cert.pem`) });
const untilStdinEnds = (servers) => {
  process.stdin.on('end', () => { servers.forEach((s) => s.close()); setTimeout(() => process.exit(0), 100).unref(); });
  process.stdin.resume();
};
if (mode === 'count') {
  const server = tls.createServer(creds(), (socket) => {
    let received = 0;
    let ended = false;
    socket.on('data', (d) => { received += d.length; });
    socket.on('end', () => { ended = true; });
    socket.on('error', () => {});
    socket.on('close', () => console.log(JSON.stringify({ received, end: ended, remotePort: socket._remotePort || 0 })));
    socket._remotePort = socket.remotePort;
  });
  server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
  untilStdinEnds([server]);
} else if (mode === 'halfserver') {
  const onSocket = (socket) => {
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => { got += d; });
    socket.on('error', (e) => { got += `<error ${e.code}>`; });
    socket.on('close', () => console.log(JSON.stringify({ got })));
    socket.end('ping');
  };
  const servers = [tls.createServer({ ...creds(), allowHalfOpen: true }, onSocket)];
  servers[0].listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: servers[0].address().port })));
  if (rest[0]) {
    servers.push(tls.createServer({ ...creds(), allowHalfOpen: true }, onSocket));
    servers[1].listen(rest[0]);
  }
  untilStdinEnds(servers);
} else {
  const ca = fs.readFileSync(file);
  const next = (i) => {
    if (i === rest.length) return;
    const target = rest[i];
    const where = /^\d+$/.test(target) ? { port: Number(target), host: '127.0.0.1' } : { path: target };
    const socket = tls.connect({ ...where, servername: 'localhost', ca, allowHalfOpen: true }, () => socket.end('ping'));
    let got = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => { got += d; });
    socket.on('error', (e) => { got += `<error ${e.code}>`; });
    socket.on('close', () => { console.log(JSON.stringify({ target, got })); next(i + 1); });
  };
  next(0);
}
