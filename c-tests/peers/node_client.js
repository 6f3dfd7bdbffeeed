// Node's tls.connect against a nodetls server: echo, ALPN, authorization, as one JSON line.
// usage: node node_client.js PORT CA_FILE [ALPN,...]
'use strict';
const tls = require('tls');
const fs = require('fs');
const [port, ca, alpn = 'http/1.1'] = process.argv.slice(2);
const message = 'hello from node '.repeat(1000);
const socket = tls.connect({
  port: Number(port), host: '127.0.0.1', servername: 'localhost',
  ca: fs.readFileSync(ca), ALPNProtocols: alpn.split(','),
}, () => {
  facts = {
    authorized: socket.authorized, alpn: socket.alpnProtocol, protocol: socket.getProtocol(),
    cipher: socket.getCipher().name, subject: socket.getPeerCertificate().subject.CN,
  };
  socket.write(message);
});
let facts = {};
let echoed = '';
socket.setEncoding('utf8');
socket.on('data', (d) => {
  echoed += d;
  if (echoed.length >= message.length) socket.end();
});
socket.on('close', () => {
  console.log(JSON.stringify({ ...facts, echo_ok: echoed === message }));
});
socket.on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); process.exit(1); });
setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(2); }, 20000).unref();
