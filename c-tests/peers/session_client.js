// Node's tls.connect as a resumption peer: connects twice to 127.0.0.1:PORT, the second
// time with the first connection's session, and prints
// {"first":bool,"second":bool,"said":["R0","R1"]} (isSessionReused() each time, and what
// the server told it). usage: node session_client.js CERT_DIR PORT MAXVERSION
'use strict';
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const [dir, port, maxVersion] = process.argv.slice(2);
const ca = fs.readFileSync(path.join(dir, 'ca-cert.pem'));
const reused = [];
const said = [];
function go(session, next) {
  let last = session;
  let got = '';
  const c = tls.connect({ host: '127.0.0.1', port: +port, servername: 'localhost', ca, maxVersion, session }, () => {
    reused.push(c.isSessionReused());
  });
  c.on('session', (s) => { last = s; });
  c.on('data', (d) => { got += d; });
  c.on('error', (e) => { console.log(JSON.stringify({ error: e.code || e.message })); process.exit(1); });
  c.on('close', () => { said.push(got); next(last); });
}
go(undefined, (s) => go(s, () => console.log(JSON.stringify({ first: reused[0], second: reused[1], said }))));
setTimeout(() => process.exit(3), 20000).unref();
