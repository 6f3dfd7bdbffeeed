// A deliberately wrong server, so the smoke run can prove that loadgen notices:
//   node bad-server.js --port P --key KEY.pem --cert CERT.pem [--source N]
//        (--corrupt-at OFFSET | --truncate-at OFFSET)
// Like node-echo-server.js, except that each connection's output has the byte at OFFSET
// flipped, or ends (cleanly, close_notify and all) after OFFSET bytes.
'use strict';
const tls = require('tls');
const fs = require('fs');

const args = process.argv.slice(2);
const opt = (name) => { const i = args.indexOf(name); return i >= 0 ? args[i + 1] : undefined; };
const corruptAt = opt('--corrupt-at') !== undefined ? Number(opt('--corrupt-at')) : -1;
const truncateAt = opt('--truncate-at') !== undefined ? Number(opt('--truncate-at')) : -1;
const source = opt('--source') !== undefined ? Number(opt('--source')) : -1;

// Writes `chunk` as the bytes at [sent, sent + chunk.length) of the connection's output.
function emit(socket, state, chunk) {
  if (state.ended) return;
  if (corruptAt >= state.sent && corruptAt < state.sent + chunk.length) {
    chunk = Buffer.from(chunk);
    chunk[corruptAt - state.sent] ^= 0x40;
  }
  if (truncateAt >= 0 && state.sent + chunk.length >= truncateAt) {
    socket.end(chunk.subarray(0, truncateAt - state.sent));
    state.ended = true;
    return;
  }
  state.sent += chunk.length;
  socket.write(chunk);
}

const server = tls.createServer({
  key: fs.readFileSync(opt('--key')), cert: fs.readFileSync(opt('--cert')),
}, (socket) => {
  socket.setNoDelay(true);
  socket.on('error', () => {});
  const state = { sent: 0, ended: false };
  if (source >= 0) {
    const out = Buffer.alloc(source);
    for (let i = 0; i < source; i++) out[i] = (i * 31 + 7) % 251;
    emit(socket, state, out);
    if (!state.ended) socket.end();
    socket.resume();
  } else {
    socket.on('data', (d) => emit(socket, state, d));
    socket.on('end', () => socket.end());
  }
});
server.on('tlsClientError', () => {});
server.listen(Number(opt('--port') || 0), '127.0.0.1', () => {
  process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`);
});
const stop = () => { server.close(); setTimeout(() => process.exit(0), 200).unref(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
