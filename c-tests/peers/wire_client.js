// Node's tls.connect for the on-the-wire tests: sends "go", reads until the server ends,
// prints one JSON line {protocol, received, ok}. usage: node wire_client.js PORT CA MAX_VERSION EXPECTED_LEN
'use strict';
const tls = require('tls');
const fs = require('fs');
const [port, ca, maxVersion, expected] = process.argv.slice(2);
const socket = tls.connect({ port: Number(port), host: '127.0.0.1', servername: 'localhost', ca: fs.readFileSync(ca), maxVersion },
  () => socket.write('go'));
let received = 0;
let ok = true;
const unit = 'nodetls-secret-payload ';
socket.on('data', (d) => {
  for (const b of d) { ok = ok && b === unit.charCodeAt(received % unit.length); received++; }
});
socket.on('end', () => {
  console.log(JSON.stringify({ protocol: socket.getProtocol(), received, ok: ok && received === Number(expected) }));
});
socket.on('error', (e) => console.log(JSON.stringify({ error: e.code || e.message })));
setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(2); }, 20000).unref();
