// Node's tls.connect with requestOCSP as a stapling peer: connects to 127.0.0.1:PORT and
// prints one JSON line {"events":N,"ocsp":HEX|null,"secure":bool,"error":CODE|null}.
// usage: node ocsp_client.js CERT_DIR PORT MAXVERSION REQUEST_OCSP(0|1)
'use strict';
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const [dir, port, maxVersion, request] = process.argv.slice(2);
const out = { events: 0, ocsp: null, secure: false, error: null };
const c = tls.connect({
  host: '127.0.0.1', port: +port, servername: 'localhost', maxVersion,
  ca: fs.readFileSync(path.join(dir, 'ca-cert.pem')), requestOCSP: request === '1',
}, () => { out.secure = true; c.end(); });
c.on('OCSPResponse', (r) => { out.events++; out.ocsp = r ? r.toString('hex') : null; });
c.on('error', (e) => { out.error = e.code || e.message; });
c.on('data', () => {});
c.on('close', () => { console.log(JSON.stringify(out)); process.exit(0); });
setTimeout(() => process.exit(3), 20000).unref();
