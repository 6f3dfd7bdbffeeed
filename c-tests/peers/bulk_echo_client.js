// Node's tls.connect against an echo server: CONNS connections at once, each sending BYTES
// of pseudo-random data with backpressure (waits for 'drain' when write() is false), then
// checking the echo byte for byte and ending. Prints one JSON line.
// usage: node bulk_echo_client.js PORT CA_FILE BYTES [CONNS]
'use strict';
const tls = require('tls');
const fs = require('fs');
const crypto = require('crypto');
const [port, ca, bytes, conns = '1'] = process.argv.slice(2);
const total = Number(bytes);
const started = Date.now();

function one(i) {
  return new Promise((resolve) => {
    const message = crypto.createHash('sha256').update(`seed ${i}`).digest();
    const data = Buffer.alloc(total);
    for (let off = 0; off < total; off += message.length) message.copy(data, off);
    const socket = tls.connect({
      port: Number(port), host: '127.0.0.1', servername: 'localhost',
      ca: fs.readFileSync(ca), ALPNProtocols: ['http/1.1'],
    });
    const facts = {};
    const chunks = [];
    let received = 0;
    socket.on('secureConnect', () => {
      Object.assign(facts, { authorized: socket.authorized, alpn: socket.alpnProtocol, protocol: socket.getProtocol() });
      let off = 0;
      const pump = () => {
        while (off < total) {
          const end = Math.min(off + 65536, total);
          const more = socket.write(data.subarray(off, end));
          off = end;
          if (!more) return socket.once('drain', pump);
        }
      };
      pump();
    });
    socket.on('data', (d) => {
      chunks.push(d);
      received += d.length;
      if (received >= total) socket.end();
    });
    socket.on('end', () => {});
    socket.on('close', () => resolve({ ...facts, ok: Buffer.concat(chunks).equals(data), received }));
    socket.on('error', (e) => resolve({ error: e.code || e.message }));
  });
}

(async () => {
  const results = await Promise.all(Array.from({ length: Number(conns) }, (_, i) => one(i)));
  const bad = results.filter((r) => !r.ok || !r.authorized || r.alpn !== 'http/1.1');
  console.log(JSON.stringify({ ok: bad.length === 0, conns: results.length, bytes: total,
    first: results[0], bad: bad.slice(0, 3), ms: Date.now() - started }));
  process.exit(bad.length === 0 ? 0 : 1);
})();
setTimeout(() => { console.log(JSON.stringify({ ok: false, error: 'timeout' })); process.exit(2); }, 60000).unref();
