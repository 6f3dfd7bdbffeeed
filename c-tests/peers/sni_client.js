// Node's tls.connect with a servername (or none), an optional client certificate and
// requestOCSP, against 127.0.0.1:PORT. Prints one JSON line:
// {"secure":bool,"served":CN|null,"data":TEXT,"ocsp":HEX|null,"ocsp_events":N,"error":CODE|null}
// usage: node sni_client.js CERT_DIR PORT SERVERNAME|- CLIENT|- [REQUEST_OCSP(0|1) [VANISH_MS]]
// SERVERNAME "-": no SNI (host is an IP address); CLIENT: NAME-cert.pem and NAME-key.pem;
// VANISH_MS: destroy the connection after that long, as a client that gives up.
'use strict';
const tls = require('tls');
const fs = require('fs');
const path = require('path');
const [dir, port, servername, client, ocsp = '0', vanish = '0'] = process.argv.slice(2);
const out = { secure: false, served: null, data: '', ocsp: null, ocsp_events: 0, error: null };
const opts = { host: '127.0.0.1', port: +port, rejectUnauthorized: false, requestOCSP: ocsp === '1' };
if (servername !== '-') opts.servername = servername;
if (client !== '-') {
  opts.cert = fs.readFileSync(path.join(dir, `${client}-cert.pem`));
  opts.key = fs.readFileSync(path.join(dir, `${client}-key.pem`));
}
const c = tls.connect(opts, () => {
  out.secure = true;
  const cert = c.getPeerCertificate();
  out.served = cert && cert.subject ? cert.subject.CN : null;
});
c.setEncoding('utf8');
c.on('OCSPResponse', (r) => { out.ocsp_events++; out.ocsp = r ? r.toString('hex') : null; });
c.on('data', (d) => { out.data += d; });
c.on('error', (e) => { out.error = e.code || e.message; });
c.on('close', () => { console.log(JSON.stringify(out)); process.exit(0); });
if (+vanish > 0) setTimeout(() => c.destroy(), +vanish);
setTimeout(() => process.exit(3), 20000).unref();
