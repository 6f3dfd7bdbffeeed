// Node clients that finish the handshake and go at once: `tls.connect(..., () => socket.destroy())`,
// COUNT times in a row, against PORT; prints one JSON line of what they saw.
// usage: node quick_client.js PORT COUNT [MAX_VERSION]
'use strict';
const tls = require('tls');
const [port, count, maxVersion = 'TLSv1.3'] = process.argv.slice(2);
const total = Number(count);
const seen = { secure: 0, errors: {}, closed: 0 };
function one(i) {
  if (i === total) {
    console.log(JSON.stringify(seen));
    return;
  }
  const socket = tls.connect({ port: Number(port), host: '127.0.0.1', rejectUnauthorized: false, maxVersion },
    () => { seen.secure++; socket.destroy(); });
  socket.on('error', (e) => { seen.errors[e.code || e.message] = (seen.errors[e.code || e.message] || 0) + 1; });
  socket.on('close', () => { seen.closed++; one(i + 1); });
}
one(0);
setTimeout(() => { console.log(JSON.stringify({ ...seen, timeout: true })); process.exit(2); }, 30000).unref();
