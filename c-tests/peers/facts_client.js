// Node's tls.connect as the other end for the handshake-facts tests: its keylog lines,
// exportKeyingMaterial, the server certificate's fingerprint, then it sends MESSAGE and
// waits for the echo. Prints one JSON line.
// usage: node facts_client.js PORT CA_FILE MAX_VERSION MESSAGE
'use strict';
const tls = require('tls');
const fs = require('fs');
const [port, ca, maxVersion, message] = process.argv.slice(2);
const keylog = [];
const socket = tls.connect({
  port: Number(port), host: '127.0.0.1', servername: 'localhost', ca: fs.readFileSync(ca), maxVersion,
}, () => {
  const facts = {
    protocol: socket.getProtocol(),
    fingerprint: socket.getPeerCertificate().fingerprint256,
    ekm: socket.exportKeyingMaterial(32, 'EXPERIMENTAL-nodetls', Buffer.from('ctx')).toString('hex'),
    ekm_nocontext: socket.exportKeyingMaterial(48, 'EXPERIMENTAL-nodetls').toString('hex'),
  };
  let echoed = '';
  socket.on('data', (d) => {
    echoed += d;
    if (echoed.length >= message.length) {
      facts.echo_ok = echoed === message;
      // Lines can still arrive after secureConnect (TLS 1.3's client traffic secret).
      facts.keylog = keylog.join(';');
      console.log(JSON.stringify(facts));
      socket.end();
    }
  });
  socket.write(message);
});
socket.on('keylog', (line) => keylog.push(line.toString().trim()));
socket.on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); });
setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(2); }, 20000).unref();
