// Node's tls peers for nodetls's large transfers, byte-exact without hashing: the stream is
// 1 MiB units, each a fixed pseudo-random block (xorshift32 from a seed) whose first 8 bytes
// are the unit's index (little endian). The C side generates the same.
// usage: node bulk_peer.js sink CERT_DIR  -> prints {"port":N}; per connection, once the client
//          ends: writes back {"units":U,"bad":B,"extra":E} and ends; serves until stdin closes.
//        node bulk_peer.js echo CERT_DIR  -> prints {"port":N}; echoes with backpressure (pipe).
'use strict';
const tls = require('tls');
const fs = require('fs');
const [mode, dir] = process.argv.slice(2);
const UNIT = 1 << 20;
function block() {
  const b = Buffer.alloc(UNIT);
  let x = 0x9e3779b9;
  for (let i = 0; i < UNIT; i += 4) {
    x ^= x << 13; x >>>= 0; x ^= x >>> 17; x ^= x << 5; x >>>= 0;
    b.writeUInt32LE(x, i);
  }
  return b;
}
const opts = { key: fs.readFileSync(`${dir}/server-ec-key.pem`), cert: fs.readFileSync(`${dir}/server-ec-cert.pem`) };
const server = tls.createServer(opts, (socket) => {
  socket.on('error', () => {});
  if (mode === 'echo') { socket.pipe(socket); return; }
  const expected = block();
  const stage = Buffer.alloc(UNIT);
  let fill = 0, units = 0, bad = 0;
  socket.on('data', (d) => {
    let off = 0;
    while (off < d.length) {
      const n = Math.min(UNIT - fill, d.length - off);
      d.copy(stage, fill, off, off + n);
      fill += n; off += n;
      if (fill === UNIT) {
        expected.writeUInt32LE(units % 0x100000000, 0);
        expected.writeUInt32LE(Math.floor(units / 0x100000000), 4);
        if (stage.compare(expected) !== 0) bad++;
        units++; fill = 0;
      }
    }
  });
  socket.on('end', () => socket.end(JSON.stringify({ units, bad, extra: fill }) + '\n'));
});
server.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
process.stdin.on('end', () => { server.close(); setTimeout(() => process.exit(0), 100).unref(); });
process.stdin.resume();
