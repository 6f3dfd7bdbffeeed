// The Node side of the differential runner: runs one scenario of conformance/scenarios.txt
// with Node's own tls module and prints its trace, one event per line, "<side> <event>".
// conformance/c/driver.c runs the same scenario names on nodetls and prints the same format;
// conformance/run.py compares the two, each side's lines separately.
//
// usage: node driver.js SCENARIO CERT_DIR [SCENARIOS_FILE]
'use strict';
const tls = require('tls');
const net = require('net');
const fs = require('fs');
const path = require('path');
const { spawn } = require('child_process');

const [name, certDir, specFile = path.join(__dirname, '..', 'scenarios.txt')] = process.argv.slice(2);
if (!name || !certDir) {
  console.error('usage: node driver.js SCENARIO CERT_DIR [SCENARIOS_FILE]');
  process.exit(64);
}
process.on('warning', () => {}); // DEP0123 (IP servername) and friends are not events of the scenario
process.removeAllListeners('warning');

// ---- the scenario file ------------------------------------------------------------------
function parseSpec(text) {
  const sections = new Map();
  let cur = null;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^\[(.+)\]$/.exec(line);
    if (m) {
      cur = new Map();
      sections.set(m[1], cur);
      continue;
    }
    const eq = line.indexOf('=');
    if (eq < 0 || !cur) throw new Error(`bad line in ${specFile}: ${raw}`);
    cur.set(line.slice(0, eq).trim(), line.slice(eq + 1).trim());
  }
  return sections;
}
const sections = parseSpec(fs.readFileSync(specFile, 'utf8'));
if (!sections.has(name)) {
  console.error(`no scenario ${name}`);
  process.exit(64);
}
const spec = new Map(sections.get('defaults') || []);
for (const [k, v] of sections.get(name)) spec.set(k, v);
for (const [k, v] of [...spec]) if (v === '!') spec.delete(k);
const get = (k, d) => (spec.has(k) ? spec.get(k) : d);
const num = (k, d) => Number(get(k, d));
const list = (k) => (get(k, '') ? get(k).split(/\s+/) : []);

const readCert = (f) => fs.readFileSync(path.join(certDir, f));
const contexts = new Map();
// One value of the scenario file as Node takes it.
function value(v) {
  if (v.startsWith('[') && v.endsWith(']')) {
    const inner = v.slice(1, -1).trim();
    return inner ? inner.split(',').map((x) => value(x.trim())) : [];
  }
  if (v.startsWith('"') && v.endsWith('"')) return v.slice(1, -1);
  if (v.startsWith('@')) {
    const [files, pass] = v.slice(1).split('#');
    const pem = Buffer.concat(files.split('+').map(readCert));
    return pass === undefined ? pem : { pem, passphrase: pass };
  }
  if (v.startsWith('ctx:')) return context(v.slice(4));
  if (v.startsWith('hex:')) return Buffer.from(v.slice(4), 'hex');
  if (v === 'true' || v === 'false') return v === 'true';
  if (/^-?\d+$/.test(v)) return Number(v);
  return v;
}
// The Node options under a prefix ("server.", "client.", "ctxA.").
function options(prefix) {
  const o = {};
  for (const [k, v] of spec) if (k.startsWith(prefix)) o[k.slice(prefix.length)] = value(v);
  return o;
}
function context(n) {
  if (!contexts.has(n)) contexts.set(n, tls.createSecureContext(options(`${n}.`)));
  return contexts.get(n);
}

// ---- the trace ---------------------------------------------------------------------------
const T = (side, text) => process.stdout.write(`${side} ${text}\n`);
const code = (e) => e.code || 'undefined';
function errLine(e) {
  // The words matter for the host-name check (Node's checkServerIdentity reasons).
  return e.code === 'ERR_TLS_CERT_ALTNAME_INVALID' ? `${e.code} ${e.message}` : code(e);
}
function preview(buf) {
  let s = '';
  for (const b of buf.subarray(0, 40)) s += b >= 0x20 && b < 0x7f && b !== 0x22 && b !== 0x5c ? String.fromCharCode(b) : `\\x${b.toString(16).padStart(2, '0')}`;
  return `"${s}${buf.length > 40 ? '...' : ''}"`;
}
// Received bytes are reported in one line when the stream ends or closes, since the chunking
// of data events is not something either side fixes.
function collector(side, sock) {
  const chunks = [];
  let n = 0;
  sock.on('data', (d) => { chunks.push(d); n += d.length; });
  return {
    get length() { return n; },
    get bytes() { return Buffer.concat(chunks); },
    flush() {
      if (n > 0) T(side, `data ${n} ${preview(Buffer.concat(chunks))}`);
      chunks.length = 0;
      n = 0;
    },
  };
}
function plainCert(o) {
  const c = { ...o };
  for (const k of ['pubkey', 'raw']) if (c[k]) c[k] = c[k].toString('base64');
  if (o.issuerCertificate === o) c.issuerCertificate = plainCert({ ...o, issuerCertificate: undefined });
  else if (o.issuerCertificate) c.issuerCertificate = plainCert(o.issuerCertificate);
  return c;
}
// A port as the trace shows it: the listening port is "server", the port `client.localPort = free`
// chose "localPort", any other "other".
const portName = (p, ctx) => (p === undefined || p === null ? String(p) : ctx && p === ctx.port ? 'server'
  : p === freePort ? 'localPort' : 'other');
// A value both ends of the connection compute (keying material, Finished messages): the side
// that computes it second traces, on the side "both", whether the two agree.
const shared = new Map();
function share(what, value) {
  if (!shared.has(what)) shared.set(what, value);
  else T('both', `${what} equal ${shared.get(what) === value}`);
}
// The keep-alive timer of the TCP connection from `local` to `remote` port, as the kernel shows
// it in /proc/net/tcp (timer 2: keep-alive; its time left in seconds, rounded up); 1 is the
// retransmit timer of data not yet acknowledged, so read again a moment later.
function keepAliveTimer(local, remote) {
  const hex = (n) => n.toString(16).toUpperCase().padStart(4, '0');
  for (let tries = 0; tries < 50; tries++) {
    for (const line of fs.readFileSync('/proc/net/tcp', 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length < 6 || !f[1].endsWith(`:${hex(local)}`) || !f[2].endsWith(`:${hex(remote)}`)) continue;
      const [timer, when] = f[5].split(':');
      if (timer === '01') break;
      return timer === '02' ? `on ${Math.ceil(parseInt(when, 16) / 100)}s` : 'off';
    }
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
  }
  return 'not found';
}
const fam = (f) => (f === 'IPv4' || f === 4 ? 'IPv4' : f === 'IPv6' || f === 6 ? 'IPv6' : String(f));
// Getters, by the names the scenario file uses (the C driver has the same list).
function getters(side, s, names, ctx) {
  for (const g of names) {
    switch (g) {
      case 'authorized': T(side, `authorized ${s.authorized}`); break;
      case 'authorizationError': T(side, `authorizationError ${s.authorizationError ? (s.authorizationError.code || s.authorizationError) : 'null'}`); break;
      case 'protocol': T(side, `getProtocol ${s.getProtocol()}`); break;
      case 'cipher': {
        const c = s.getCipher();
        T(side, c ? `getCipher ${c.name} ${c.standardName} ${c.version}` : `getCipher ${c}`);
        break;
      }
      case 'alpn': T(side, `alpnProtocol ${s.alpnProtocol}`); break;
      case 'servername': T(side, `servername ${s.servername}`); break;
      case 'reused': T(side, `isSessionReused ${s.isSessionReused()}`); break;
      case 'encrypted': T(side, `encrypted ${s.encrypted}`); break;
      case 'sigalgs': T(side, `getSharedSigalgs [${s.getSharedSigalgs().join(',')}]`); break;
      case 'ephemeral': {
        const k = s.getEphemeralKeyInfo();
        T(side, k && k.name ? `getEphemeralKeyInfo ${k.name} ${k.size}` : `getEphemeralKeyInfo ${k && Object.keys(k).length === 0 ? 'none' : k}`);
        break;
      }
      case 'peerCN': {
        const c = s.getPeerCertificate();
        T(side, `peer ${c && c.subject ? `CN=${c.subject.CN}` : c && Object.keys(c).length === 0 ? 'none' : c}`);
        break;
      }
      case 'peerCert': {
        const c = s.getPeerCertificate();
        T(side, c && Object.keys(c).length ? `peerCertificate.json ${JSON.stringify(plainCert(c))}` : `peerCertificate ${c && 'none'}`);
        break;
      }
      case 'peerChain': {
        let c = s.getPeerCertificate(true);
        const cns = [];
        for (let i = 0; c && c.subject && i < 6; i++) {
          cns.push(c.subject.CN);
          if (c.issuerCertificate === c) { cns.push('(self)'); break; }
          c = c.issuerCertificate;
        }
        T(side, `peerChain ${cns.length ? cns.join(' < ') : 'none'}`);
        break;
      }
      case 'peerCertDetailed': {
        const c = s.getPeerCertificate(true);
        T(side, c && Object.keys(c).length ? `peerCertificateDetailed.json ${JSON.stringify(plainCert(c))}` : 'peerCertificateDetailed none');
        break;
      }
      case 'remote':
        T(side, `remoteAddress ${s.remoteAddress} ${fam(s.remoteFamily)} port=${portName(s.remotePort, ctx)}`);
        break;
      case 'local':
        T(side, `localAddress ${s.localAddress} port=${portName(s.localPort, ctx)}`);
        break;
      case 'bytes': T(side, `bytesRead>0 ${s.bytesRead > 0} bytesWritten>0 ${s.bytesWritten > 0}`); break;
      case 'bytesExact': T(side, `bytesRead ${s.bytesRead} bytesWritten ${s.bytesWritten}`); break;
      case 'renegotiate': {
        let r;
        try {
          r = s.renegotiate({}, (e) => T(side, `renegotiate callback ${e ? code(e) : 'ok'}`));
          T(side, `renegotiate returned ${r}`);
        } catch (e) {
          T(side, `renegotiate threw ${code(e)}`);
        }
        break;
      }
      case 'ekm': {
        try {
          const label = 'client finished';
          const plain = s.exportKeyingMaterial(128, label);
          const withContext = s.exportKeyingMaterial(128, label, Buffer.from([0, 1, 2, 3]));
          const emptyContext = s.exportKeyingMaterial(128, label, Buffer.alloc(0));
          T(side, `exportKeyingMaterial ${plain.length} ${withContext.length} ${emptyContext.length} context changes it ${!plain.equals(withContext)}`);
          share('exportKeyingMaterial', plain.toString('hex'));
          try {
            s.exportKeyingMaterial(0, label);
            T(side, 'exportKeyingMaterial(0) returned');
          } catch (e) {
            T(side, `exportKeyingMaterial(0) threw ${code(e)}`);
          }
        } catch (e) {
          T(side, `exportKeyingMaterial threw ${code(e)}`);
        }
        break;
      }
      case 'finished': {
        const own = s.getFinished();
        const peer = s.getPeerFinished();
        T(side, `getFinished ${own ? own.length : own} getPeerFinished ${peer ? peer.length : peer}`);
        if (own && peer) {
          const [c, sv] = side.startsWith('client') ? [own, peer] : [peer, own];
          share('Finished messages', c.toString('hex') + sv.toString('hex'));
        }
        break;
      }
      case 'keepalive': T(side, `keepalive ${keepAliveTimer(s.localPort, s.remotePort)}`); break;
      case 'session': T(side, `getSession ${s.getSession() ? 'present' : 'none'}`); break;
      case 'keylog': {
        const lines = s.keylogLines || [];
        T(side, `keylog ${lines.length} lines: ${[...new Set(lines)].sort().join(' ')}`);
        break;
      }
      case 'bufferSize': T(side, `bufferSize ${s.bufferSize}`); break;
      default: throw new Error(`unknown getter ${g}`);
    }
  }
}

// ---- the end of a scenario -----------------------------------------------------------------
// The scenario is over when the process has nothing left to do (every server and socket closed).
const watchdog = setTimeout(() => {
  T('driver', 'TIMEOUT');
  process.exit(2);
}, num('timeout', 8000));
watchdog.unref();
process.on('uncaughtException', (e) => {
  T('driver', `exception ${e.code || e.message}`);
  process.exit(3);
});
const later = (ms, fn) => setTimeout(fn, ms);

// ---- servers and clients -------------------------------------------------------------------
// createServer with the scenario's server options, contexts and SNICallback; null if it throws.
function makeServer(side = 'server', opts = options('server.')) {
  const sni = [...spec].filter(([k]) => k.startsWith('sni.'));
  if (sni.length) {
    const answers = new Map(sni.map(([k, v]) => [k.slice(4), v]));
    opts.SNICallback = (servername, cb) => {
      T(side, `SNICallback ${servername}`);
      const a = answers.get(servername) || answers.get('*') || 'default';
      setTimeout(() => {
        if (a === 'fail') cb(new Error('SNI lookup failed'));
        else if (a === 'default') cb(null, null);
        else cb(null, value(a));
      }, 20);
    };
  }
  let srv;
  try {
    srv = tls.createServer(opts);
  } catch (e) {
    T(side, `createServer error ${e.code === 'ERR_SSL_NO_CIPHER_MATCH' ? e.code : ''}`.trimEnd());
    return null;
  }
  for (const [k, v] of [...spec].filter(([k]) => k.startsWith('addContext.')).sort()) {
    const [pattern, ctx] = v.split(/\s+/);
    try {
      srv.addContext(pattern, value(ctx));
    } catch (e) {
      T(side, `addContext error ${pattern}`);
    }
  }
  if (spec.has('keylog')) srv.on('keylog', (line, s) => keylogLine(s, line));
  // ocsp = TEXT | none: OCSPRequest answers TEXT (or nothing) 50 ms later
  if (spec.has('ocsp')) {
    srv.on('OCSPRequest', (cert, issuer, cb) => {
      T(side, `OCSPRequest cert ${Buffer.isBuffer(cert)} issuer ${Buffer.isBuffer(issuer)}`);
      const answer = get('ocsp');
      setTimeout(cb, 50, null, answer === 'none' ? null : Buffer.from(answer));
    });
  }
  if (!spec.has('quiet.server')) {
    srv.on('tlsClientError', (e, s) => {
      T(side, `tlsClientError ${errLine(e)}`);
      s.destroy(); // as Node's tests do (a handshake timeout leaves the socket open)
      if (srv.onClientError) srv.onClientError();
    });
  }
  // The server's own close event is ordered only against the flows' own steps: traced as the
  // side "listener" by the flows that look at it.
  return srv;
}
// `listen = path`: on a Unix socket (the path is the driver's own), else on a loopback port.
const sockPath = path.join(require('os').tmpdir(), `conformance-node-${process.pid}.sock`);
const onPath = get('listen', '') === 'path';
function listen(srv, cb) {
  if (onPath) srv.listen(sockPath, () => cb(undefined));
  else srv.listen(0, '127.0.0.1', () => cb(srv.address().port));
}
function keylogLine(s, line) {
  if (!s.keylogLines) s.keylogLines = [];
  s.keylogLines.push(line.toString('latin1').split(' ')[0]);
}
// checkServerIdentity = accept | reject: a callback that traces its call and accepts the
// server, or refuses it with an error of its own.
function identityCheck(mode) {
  return (host, cert) => {
    T('client', `checkServerIdentity ${host} ${cert.subject ? cert.subject.CN : 'no subject'}`);
    if (mode === 'accept') return undefined;
    const e = new Error('refused by the callback');
    e.code = 'ECUSTOM';
    return e;
  };
}
function clientOptions(port, prefix = 'client.') {
  const o = options(prefix);
  if (o.port === 'closed') {
    // A port nothing listens on: bind one and close it.
    o.port = closedPort;
  } else if (o.port === undefined) {
    o.port = port;
  }
  if (o.localPort === 'free') o.localPort = freePort;
  if (o.checkServerIdentity) o.checkServerIdentity = identityCheck(o.checkServerIdentity);
  if (onPath) o.path = sockPath;
  return o;
}
let closedPort = 0;
let freePort = 0;
// Traces the usual events of a TLS socket; returns the data collector.
function watch(side, s, ctx, extra = {}) {
  const got = collector(side, s);
  s.on('end', () => { got.flush(); T(side, 'end'); });
  s.on('error', (e) => T(side, `error ${errLine(e)}`));
  s.on('close', (had) => {
    got.flush();
    T(side, `close had_error=${had}`);
    getters(side, s, list(`trace.${side}.close`), ctx);
    if (extra.onClose) extra.onClose();
  });
  if (extra.onTimeout) s.on('timeout', () => { T(side, 'timeout'); extra.onTimeout(); });
  return got;
}

// ---- flows -------------------------------------------------------------------------------
const flows = {};

// One server, one client: handshake, getters, the client writes `send` and ends once it has
// `expect` bytes back (the server echoes, after writing `greeting`), both close.
flows.basic = () => {
  const send = get('send', 'hello');
  const greeting = spec.has('greeting.size') ? 'g'.repeat(num('greeting.size')) : get('greeting', '');
  const fragment = spec.has('maxSendFragment') ? num('maxSendFragment') : 0;
  const expect = num('expect', (get('echo', 'true') === 'true' ? send.length : 0) + greeting.length);
  const quiet = spec.has('quiet.server');
  const serverLess = get('server', '') === 'none';
  const start = (srv, port) => {
    const ctx = { port };
    let s;
    try {
      s = tls.connect(clientOptions(port));
    } catch (e) {
      T('client', `connect error ${e.code === 'ERR_SSL_NO_CIPHER_MATCH' ? e.code : ''}`.trimEnd());
      if (srv) srv.close();
      return;
    }
    if (spec.has('keylog')) s.on('keylog', (line) => keylogLine(s, line));
    if (spec.has('session.event')) s.on('session', () => T('client', 'session'));
    if (spec.has('ocsp')) {
      s.on('OCSPResponse', (r) => {
        T('client', `OCSPResponse ${r ? preview(r) : r}`);
        if (r && spec.has('ocsp.destroy')) s.destroy();
      });
    }
    getters('client', s, list('trace.client.connect'), ctx);
    let ended = false;
    let largest = 0;
    s.on('data', (d) => { largest = Math.max(largest, d.length); });
    const got = watch('client', s, ctx, {
      onClose: () => {
        if (fragment) T('client', `every data chunk at most ${fragment} bytes ${largest <= fragment}`);
        if (srv) srv.close();
      },
    });
    const secure = () => {
      getters('client', s, list('trace.client'), ctx);
      if (send) s.write(send);
      if (expect === 0) { ended = true; s.end(); }
    };
    s.on('secureConnect', () => {
      T('client', 'secureConnect');
      if (!spec.has('setKeepAlive')) return secure();
      // nodetls applies it on the loop's next turn: both drivers look 20 ms later
      s.setKeepAlive(true, num('setKeepAlive'));
      later(20, secure);
    });
    s.on('data', () => {
      if (!ended && got.length >= expect) { ended = true; s.end(); }
    });
  };
  if (serverLess) return start(null, 0);
  const srv = makeServer();
  if (!srv) return;
  srv.on('secureConnection', (c) => {
    const ctx = { port: srv.address().port };
    if (!quiet) {
      T('server', 'secureConnection');
      getters('server', c, list('trace.server'), ctx);
      watch('server', c, ctx);
    }
    if (fragment) {
      for (const n of [511, 16385, fragment]) T('server', `setMaxSendFragment(${n}) ${c.setMaxSendFragment(n)}`);
    }
    if (greeting) c.write(greeting);
    if (get('echo', 'true') === 'true') c.on('data', (d) => c.write(d));
    else c.resume();
  });
  listen(srv, (port) => start(srv, port));
};

// createServer and listen only, then close: option checks.
flows.create = () => {
  const srv = makeServer();
  if (!srv) return;
  listen(srv, () => { T('server', 'listening'); srv.close(); });
};

// A plain TCP client against the TLS server: close at once, stay silent, or send bytes.
flows.raw_client = () => {
  const srv = makeServer();
  if (!srv) return;
  // The listener closes once the raw client is gone and the server has said what it saw.
  let steps = 0;
  const step = () => { if (++steps === 2) srv.close(); };
  srv.onClientError = step;
  srv.on('secureConnection', () => { T('server', 'secureConnection'); step(); });
  listen(srv, (port) => {
    const c = net.connect(port, '127.0.0.1');
    const mode = get('raw', 'close');
    c.on('connect', () => {
      if (mode === 'close') c.destroy();
      else if (mode.startsWith('garbage:')) c.write(Buffer.alloc(Number(mode.slice(8)), 42));
      else if (mode.startsWith('text:')) c.write(mode.slice(5).replace(/\\n/g, '\n'));
    });
    // Whether an alert came before the close is not traced: OpenSSL 3.0 (Node 20) sends none,
    // 3.2 does, and Node's own test-tls-junk-closes-server accepts both.
    c.resume();
    c.on('end', () => T('raw', 'end'));
    c.on('error', (e) => T('raw', `error ${code(e)}`));
    c.on('close', () => { T('raw', 'close'); step(); });
  });
};

// A plain TCP server for a TLS client: close on accept, or answer the hello with text.
flows.raw_server = () => {
  const mode = get('raw', 'close');
  const srv = net.createServer((c) => {
    if (mode === 'close') c.end();
    else c.once('data', () => c.end(mode.slice(6).replace(/\\r\\n/g, '\r\n')));
    c.on('error', () => {});
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    s.on('secureConnect', () => T('client', 'secureConnect'));
    watch('client', s, null, { onClose: () => srv.close() });
  });
};

// The client pauses, writes until write() says wait, resumes; the server echoes (Node's
// test-tls-pause, test-https-drain).
flows.pause_write = () => {
  const size = num('size', 1 << 20);
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.pipe(c);
    c.on('end', () => T('server', 'end'));
    c.on('close', (had) => T('server', `close had_error=${had}`));
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    let sent = 0;
    let received = 0;
    let resumed = false;
    s.on('secureConnect', () => {
      s.pause();
      T('client', 'paused');
      const send = () => {
        const more = s.write(Buffer.alloc(size, 'x'));
        sent += size;
        if (more && sent < 64 * size) return setImmediate(send);
        T('client', `write returned ${more}`);
        resumed = true;
        s.resume();
        T('client', 'resumed');
      };
      send();
    });
    s.on('data', (d) => {
      if (!resumed) T('client', 'data while paused');
      received += d.length;
      if (received === sent) { T('client', 'received all'); s.end(); }
    });
    s.on('end', () => T('client', 'end'));
    s.on('error', (e) => T('client', `error ${code(e)}`));
    s.on('close', (had) => { T('client', `close had_error=${had}`); srv.close(); });
  });
};

// The server ends with a large body; the client pauses on every chunk and resumes on the next
// turn (Node's test-tls-throttle, test-https-truncate, test-tls-client-destroy-soon).
flows.throttle = () => {
  const size = num('size', 1 << 20);
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.end(Buffer.alloc(size, 'y'));
    c.on('close', (had) => T('server', `close had_error=${had}`));
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    let received = 0;
    s.on('data', (d) => {
      received += d.length;
      s.pause();
      setImmediate(() => s.resume());
    });
    s.on('end', () => T('client', `end received=${received}`));
    s.on('error', (e) => T('client', `error ${code(e)}`));
    s.on('close', (had) => { T('client', `close had_error=${had}`); srv.close(); });
  });
};

// Write 1 KiB chunks until write() returns false, then again after each drain, until the server
// has seen `size` bytes (Node's test-tls-fast-writing).
flows.backpressure = () => {
  const size = num('size', 1 << 20);
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    let n = 0;
    c.on('data', (d) => { n += d.length; });
    c.on('end', () => T('server', `end received=${n}`));
    c.on('close', (had) => T('server', `close had_error=${had}`));
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    let sent = 0;
    let sawFalse = false;
    let drains = 0;
    const chunk = Buffer.alloc(1024, 'z');
    const write = () => {
      while (sent < size) {
        sent += chunk.length;
        if (!s.write(chunk)) {
          if (!sawFalse) T('client', 'write returned false');
          sawFalse = true;
          return;
        }
      }
      T('client', `drained at least once ${drains > 0}`);
      s.end();
    };
    s.on('secureConnect', write);
    s.on('drain', () => { drains++; write(); });
    s.on('error', (e) => T('client', `error ${code(e)}`));
    s.on('end', () => T('client', 'end'));
    s.on('close', (had) => { T('client', `close had_error=${had}`); srv.close(); });
  });
};

// allowHalfOpen on the client: the server says Hello and ends, the client answers after its
// end event (Node's test-tls-connect-allow-half-open-option).
flows.half_open_client = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.end('Hello');
    watch('server', c, null);
  });
  listen(srv, (port) => {
    const s = tls.connect({ ...clientOptions(port), allowHalfOpen: true });
    watch('client', s, null, { onClose: () => srv.close() });
    s.on('end', () => later(50, () => {
      const r = s.write('Bye');
      T('client', `write after end returned ${r}`);
      s.end();
    }));
  });
};

// allowHalfOpen on the server: the client ends at once, the server writes after its end event.
flows.half_open_server = () => {
  const srv = makeServer('server', { ...options('server.'), allowHalfOpen: true });
  srv.on('secureConnection', (c) => {
    watch('server', c, null);
    c.on('end', () => later(50, () => {
      const r = c.write('late');
      T('server', `write after end returned ${r}`);
      c.end();
    }));
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    watch('client', s, null, { onClose: () => srv.close() });
    s.on('secureConnect', () => s.end());
  });
};

// end(), then write(): what the writer is told.
flows.write_after_end = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => { watch('server', c, null); c.resume(); });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    watch('client', s, null, { onClose: () => srv.close() });
    s.on('secureConnect', () => {
      s.end();
      let r;
      try {
        r = s.write('too late', (e) => T('client', `write callback ${e ? code(e) : 'ok'}`));
        T('client', `write returned ${r}`);
      } catch (e) {
        T('client', `write threw ${code(e)}`);
      }
      s.resume();
    });
  });
};

// connect() then destroy() in the same turn (Node's test-tls-client-abort).
flows.destroy_immediately = () => {
  const srv = makeServer();
  srv.on('secureConnection', () => T('server', 'secureConnection'));
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    s.on('secureConnect', () => T('client', 'secureConnect'));
    s.on('error', (e) => T('client', `error ${code(e)}`));
    s.on('close', (had) => { T('client', `close had_error=${had}`); later(100, () => srv.close()); });
    s.destroy();
  });
};

// The server writes and destroys at once (Node's test-tls-destroy-stream).
flows.server_write_destroy = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.on('error', () => {});
    c.on('close', (had) => T('server', `close had_error=${had}`));
    c.write('Hello World');
    c.destroy();
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    s.on('secureConnect', () => T('client', 'secureConnect'));
    s.on('error', (e) => T('client', `error ${code(e)}`));
    s.on('close', (had) => { T('client', `close had_error=${had}`); srv.close(); });
    s.resume();
  });
};

// Writes chained through their callbacks, then destroy (Node's test-tls-invoke-queued).
flows.invoke_queued = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.on('close', (had) => T('server', `close had_error=${had}`));
    c.write('hello ', () => {
      T('server', 'write 1 callback');
      c.write('world!', () => {
        T('server', 'write 2 callback');
        c.destroy();
      });
      c.write(' gosh', () => T('server', 'write 3 callback'));
    });
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    watch('client', s, null, { onClose: () => srv.close() });
  });
};

// server.close() while a connection is open: the connection goes on, close waits for it.
flows.server_close_open = () => {
  const srv = makeServer();
  if (spec.has('listener.event')) srv.on('close', () => T('listener', 'close'));
  srv.on('secureConnection', (c) => {
    T('server', 'secureConnection');
    srv.close(() => T('listener', 'close callback'));
    T('server', `close called, connections ${srv._connections}`);
    c.on('data', (d) => c.write(d));
    watch('server', c, null);
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    const got = watch('client', s, null);
    s.on('secureConnect', () => later(50, () => s.write('still here')));
    s.on('data', () => { if (got.length >= 10) s.end(); });
    s.on('close', () => {
      // A new connection now is refused: the server stopped listening.
      const t = tls.connect(clientOptions(port));
      t.on('error', (e) => T('client2', `error ${code(e)}`));
      t.on('close', (had) => T('client2', `close had_error=${had}`));
    });
  });
};

// socket.setTimeout on the server side (Node's test-tls-request-timeout, -timeout-server-2).
flows.timeout = () => {
  const ms = num('idle', 200);
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.setTimeout(ms);
    watch('server', c, null, { onTimeout: () => c.destroy() });
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    watch('client', s, null, { onClose: () => srv.close() });
    s.on('secureConnect', () => T('client', 'secureConnect'));
  });
};

// A TLS server on a descriptor a plain server accepted, wrapped after a delay (Node's
// test-tls-delayed-attach, -socket-failed-handshake-emits-error, -socket-constructor-alpn).
flows.wrap_server = () => {
  const delay = num('delay', 100);
  const raw = get('raw', '');
  const srv = net.createServer((conn) => {
    later(delay, () => {
      const s = new tls.TLSSocket(conn, { ...options('server.'), isServer: true, server: srv });
      getters('server', s, list('trace.server.connect'), null);
      s.on('secure', () => {
        T('server', 'secure');
        getters('server', s, list('trace.server'), null);
      });
      watch('server', s, null, { onClose: () => srv.close() });
      s.on('data', (d) => s.write(d));
    });
  });
  srv.listen(0, '127.0.0.1', () => {
    const port = srv.address().port;
    if (raw) {
      const c = net.connect(port, '127.0.0.1', () => c.write(Buffer.alloc(Number(raw.slice(8)), 42)));
      c.on('error', () => {});
      c.on('close', () => T('raw', 'close'));
      c.resume();
      return;
    }
    const s = tls.connect(clientOptions(port));
    s.on('secureConnect', () => {
      T('client', 'secureConnect');
      getters('client', s, list('trace.client'), null);
      s.end(get('send', 'hello'));
    });
    watch('client', s, null);
  });
};

// A TLS client on a descriptor that is already connected (Node's tls.connect({socket})).
flows.wrap_client = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => { T('server', 'secureConnection'); c.end('Hello'); c.resume(); });
  listen(srv, (port) => {
    const raw = net.connect(port, '127.0.0.1', () => {
      const s = tls.connect({ ...clientOptions(port), socket: raw, port: undefined, host: undefined });
      s.on('secureConnect', () => {
        T('client', 'secureConnect');
        getters('client', s, list('trace.client'), null);
      });
      watch('client', s, null, { onClose: () => srv.close() });
    });
  });
};

// After the handshake, a bad record straight onto the TCP connection under the client, then FIN
// (Node's test-tls-alert-handling): what the server and the client report.
flows.bad_record = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    T('server', 'secureConnection');
    watch('server', c, null);
    c.on('data', (d) => c.write(d));
  });
  listen(srv, (port) => {
    const raw = net.connect(port, '127.0.0.1', () => {
      const s = tls.connect({ ...clientOptions(port), socket: raw, port: undefined, host: undefined });
      s.on('secureConnect', () => { T('client', 'secureConnect'); s.write('x'); });
      s.once('data', () => raw.end(Buffer.alloc(6, 0xff)));
      watch('client', s, null, { onClose: () => srv.close() });
    });
  });
};

// Two clients; the server closes after both (Node's test-tls-connect-simple).
flows.two_clients = () => {
  const srv = makeServer();
  if (spec.has('listener.event')) srv.on('close', () => T('listener', 'close'));
  let n = 0;
  srv.on('secureConnection', (c) => {
    c.resume();
    if (++n === 2) {
      T('server', 'second secureConnection');
      srv.close(() => T('listener', 'close callback'));
    }
  });
  listen(srv, (port) => {
    for (const side of ['client1', 'client2']) {
      const s = tls.connect(clientOptions(port));
      s.on('secureConnect', () => { T(side, 'secureConnect'); s.end(); });
      s.on('error', (e) => T(side, `error ${code(e)}`));
      s.on('close', (had) => T(side, `close had_error=${had}`));
      s.resume();
    }
  });
};

// end('') before the handshake (Node's test-tls-zero-clear-in); the server ends a while later.
flows.early_end = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    T('server', 'secureConnection');
    watch('server', c, null);
    later(20, () => { c.end(); srv.close(); });
  });
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    s.on('secureConnect', () => T('client', 'secureConnect'));
    watch('client', s, null);
    s.end('');
  });
};

// openssl s_client against the port; `done(stdout)`. An argument @file names a file of the
// certificate directory.
function opensslClient(port, args, done) {
  const files = args.map((a) => (a.startsWith('@') ? path.join(certDir, a.slice(1)) : a));
  const p = spawn('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-servername', 'localhost',
    '-CAfile', path.join(certDir, 'ca-cert.pem'), ...files], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.on('close', () => done(out));
}

// The server's session store (newSession / resumeSession, each answered on the next turn)
// with openssl s_client -reconnect: six connections (Node's test-tls-session-cache).
// `store.invalid`: resumeSession answers bytes that are no session.
flows.session_store = () => {
  const srv = makeServer();
  const invalid = spec.has('store.invalid');
  let stored = null;
  const n = { connections: 0, newSession: 0, resumeSession: 0, known: 0 };
  srv.on('secureConnection', (c) => { n.connections++; c.on('error', () => {}); c.end(''); });
  srv.on('newSession', (id, data, cb) => {
    n.newSession++;
    setImmediate(() => { stored = { id, data }; cb(); });
  });
  srv.on('resumeSession', (id, cb) => {
    n.resumeSession++;
    const known = stored !== null && stored.id.equals(id);
    if (known) n.known++;
    const data = invalid ? Buffer.from('INVALID SESSION') : known ? stored.data : null;
    setImmediate(() => cb(null, data));
  });
  listen(srv, (port) => opensslClient(port, ['-reconnect', ...list('openssl')], (out) => {
    const count = (w) => out.split('\n').filter((l) => l.startsWith(`${w}, `)).length;
    T('openssl', `New ${count('New')} Reused ${count('Reused')}`);
    T('server', `connections ${n.connections} newSession ${n.newSession} resumeSession ${n.resumeSession} (known id ${n.known})`);
    srv.close();
  }));
};

// Session resumption seen by the server, with openssl s_client as the client (sess_out, then
// sess_in): Node's test-tls-session-timeout, test-https-client-resume, server half.
flows.resume_openssl = () => {
  const srv = makeServer();
  let n = 0;
  srv.on('secureConnection', (c) => {
    n++;
    T('server', `connection ${n} isSessionReused ${c.isSessionReused()} ${c.getProtocol()}`);
    c.end('bye\n');
    c.on('error', () => {});
  });
  const sess = path.join(require('os').tmpdir(), `conformance-node-${process.pid}.sess`);
  const run = (port, flag, i, next) => {
    opensslClient(port, ['-ign_eof', ...list('openssl'), flag, sess], (out) => {
      const m = /^(New|Reused), /m.exec(out);
      T('openssl', `connection ${i} ${m ? m[1] : 'no session line'}`);
      next();
    });
  };
  listen(srv, (port) => {
    run(port, '-sess_out', 1, () => run(port, '-sess_in', 2, () => {
      fs.rmSync(sess, { force: true });
      srv.close();
    }));
  });
};

// A client resumes with the session of an earlier connection (Node's test-tls-client-resume).
flows.resume_client = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => { c.end('Goodbye'); c.resume(); });
  listen(srv, (port) => {
    const c1 = tls.connect(clientOptions(port));
    c1.on('secureConnect', () => T('client1', `secureConnect isSessionReused ${c1.isSessionReused()}`));
    c1.once('session', (session) => {
      T('client1', 'session');
      c1.on('close', () => {
        const c2 = tls.connect({ ...clientOptions(port), session });
        c2.on('secureConnect', () => T('client2', `secureConnect isSessionReused ${c2.isSessionReused()}`));
        c2.on('close', () => { T('client2', 'close'); srv.close(); });
        c2.resume();
      });
    });
    c1.resume();
  });
};

// bufferSize while the client writes nine 1-byte chunks, and once all is written (Node's
// test-tls-buffersize; the C driver reads it in the last write's callback).
flows.buffer_size = () => {
  const srv = makeServer();
  srv.on('secureConnection', (c) => watch('server', c, null));
  listen(srv, (port) => {
    const s = tls.connect(clientOptions(port));
    watch('client', s, null, { onClose: () => srv.close() });
    s.on('secureConnect', () => {
      T('client', `bufferSize ${s.bufferSize}`);
      for (let i = 1; i < 10; i++) {
        s.write('a');
        T('client', `bufferSize ${s.bufferSize}`);
      }
      s.on('finish', () => T('client', `all written, bufferSize ${s.bufferSize}`));
      s.end();
    });
  });
};

// server.setSecureContext (Node's test-tls-set-secure-context): the first client stays
// connected while the server's certificate changes to ctxB's and back; clients that come
// meanwhile see the certificate of their time, the first one keeps receiving.
flows.set_secure_context = () => {
  const srv = makeServer();
  let first = null;
  srv.on('secureConnection', (c) => {
    c.on('error', () => {});
    c.once('data', (d) => {
      if (d.toString() === '1') { first = c; c.write('multi-'); } else c.end('success');
    });
  });
  listen(srv, (port) => {
    const client = (n, then) => {
      const s = tls.connect(clientOptions(port));
      watch(`client${n}`, s, null, { onClose: then });
      s.on('secureConnect', () => { T(`client${n}`, 'secureConnect'); s.write(String(n)); });
      return s;
    };
    const swap = (prefix) => {
      srv.setSecureContext(options(prefix));
      T('server', `setSecureContext ${prefix.slice(0, -1)}`);
    };
    let open = 2; // the first client and the last one
    const done = () => { if (--open === 0) srv.close(); };
    const c1 = client(1, done);
    c1.once('data', () => client(2, () => {
      swap('ctxB.');
      first.write('request-');
      client(3, () => {
        swap('server.');
        client(4, () => {
          first.write('success-');
          swap('ctxB.');
          first.end('fun!');
          client(5, done);
        });
      });
    }));
  });
};

// server.emit('connection', socket) with a connection a plain server accepted (Node's
// test-tls-socket-close): once the echo came back, the plain socket is destroyed under the
// TLS one; both TLS sockets close.
flows.accept_fd = () => {
  const srv = makeServer();
  let raw = null;
  srv.on('secureConnection', (c) => {
    T('server', 'secureConnection');
    watch('server', c, null);
    c.on('data', (d) => c.write(d));
  });
  const plain = net.createServer((conn) => {
    raw = conn;
    conn.on('error', () => {});
    srv.emit('connection', conn);
  });
  plain.listen(0, '127.0.0.1', () => {
    const s = tls.connect(clientOptions(plain.address().port));
    watch('client', s, null, { onClose: () => plain.close() });
    s.write('.');
    s.once('data', () => { raw.destroy(); T('raw', 'destroyed'); });
  });
};

// resumeSession answered 100 ms after its client was destroyed (Node's
// test-tls-async-cb-after-socket-end): the first client's session is offered by a second one,
// destroyed once connected while the server waits for the store.
flows.resume_after_destroy = () => {
  const srv = makeServer();
  let answer = null;
  let second = null;
  const next = () => {
    if (!answer || !second) return;
    second.destroy();
    T('client2', 'destroyed');
    later(100, () => {
      answer();
      T('server', 'resumeSession answered');
      srv.close();
    });
  };
  srv.on('newSession', (id, data, cb) => cb());
  srv.on('resumeSession', (id, cb) => {
    T('server', 'resumeSession');
    answer = cb;
    next();
  });
  listen(srv, (port) => {
    const s1 = tls.connect(clientOptions(port));
    watch('client1', s1, null);
    s1.on('secureConnect', () => {
      T('client1', 'secureConnect');
      const session = s1.getSession();
      s1.destroy();
      const s2 = tls.connect({ ...clientOptions(port), session });
      watch('client2', s2, null);
      s2.on('secureConnect', () => T('client2', 'secureConnect'));
      s2.on('connect', () => {
        T('client2', 'connect');
        second = s2;
        next();
      });
    });
  });
};

// Three servers sharing ticketKeys behind one plain listener that hands each connection to
// the next (Node's test-tls-ticket): every client offers the first session it got; each
// server's first connection checks getTicketKeys and switches to `rotate` (after the client's
// session event when it made a new session), its second one switches back.
flows.tickets = () => {
  const keys = value(get('server.ticketKeys'));
  const rotate = value(get('rotate'));
  let current = null;
  let n = 0;
  const servers = [0, 1, 2].map((id) => {
    const srv = makeServer();
    let count = 0;
    let previous = null;
    srv.on('secureConnection', (c) => {
      c.on('error', () => {});
      c.end('x');
      const reused = c.isSessionReused();
      T('server', `server ${id} connection ${++count} isSessionReused ${reused}`);
      const client = current;
      const setKeys = (k) => (reused ? srv.setTicketKeys(k) : client.once('session', () => srv.setTicketKeys(k)));
      if (count === 1) {
        previous = srv.getTicketKeys();
        T('server', `server ${id} getTicketKeys is the option ${previous.equals(keys)}`);
        setKeys(rotate);
      } else if (count === 2) {
        setKeys(previous);
      }
    });
    return srv;
  });
  const shared = net.createServer((c) => servers[n++ % 3].emit('connection', c));
  shared.listen(0, '127.0.0.1', () => {
    let session = null;
    const connect = (i) => {
      const s = tls.connect({ ...clientOptions(shared.address().port), session });
      current = s;
      s.on('secureConnect', () => T('client', `connection ${i} isSessionReused ${s.isSessionReused()}`));
      s.on('session', (x) => { session = session || x; });
      s.on('data', () => s.end());
      s.on('error', (e) => T('client', `error ${code(e)}`));
      s.on('close', () => (i === 9 ? shared.close() : connect(i + 1)));
    };
    connect(1);
  });
};

// TLS inside TLS (Node's test-tls-inception): server A decrypts and relays the cleartext to
// server B over plain TCP; the client speaks TLS to B through its TLS connection to A (the
// inner connection, side "ssl", runs over the outer socket); B sends `size` bytes and ends.
flows.inception = () => {
  const body = 'A'.repeat(num('size', 40000));
  const b = makeServer();
  b.on('secureConnection', (c) => { c.on('error', () => {}); c.end(body); });
  const a = makeServer();
  a.on('secureConnection', (socket) => {
    socket.on('error', () => {});
    const dest = net.connect(b.address().port, '127.0.0.1');
    dest.on('error', () => {});
    dest.pipe(socket);
    socket.pipe(dest);
    dest.on('end', () => socket.destroy());
  });
  listen(a, (portA) => listen(b, () => {
    const outer = tls.connect(clientOptions(portA));
    outer.on('error', (e) => T('client', `error ${code(e)}`));
    const ssl = tls.connect({ ...options('client.'), socket: outer });
    const got = collector('ssl', ssl);
    ssl.on('secureConnect', () => {
      T('ssl', 'secureConnect');
      getters('ssl', ssl, list('trace.ssl'), null);
    });
    ssl.on('error', (e) => T('ssl', `error ${code(e)}`));
    ssl.on('end', () => {
      got.flush();
      T('ssl', 'end');
      ssl.end();
      a.close();
      b.close();
    });
  }));
};

// A TLS client and a TLS server over an in-memory stream pair, no socket at all (Node's
// test-tls-generic-stream; Node 20 has no stream.duplexPair, so the driver makes one): the
// client writes `send` and ends. The C driver's twin is two ntls_pairs.
function memoryPair() {
  const { Duplex } = require('stream');
  const ends = [];
  const make = (i) => new Duplex({
    read() {},
    write(chunk, enc, cb) { ends[1 - i].push(chunk); cb(); },
    final(cb) { ends[1 - i].push(null); cb(); },
  });
  ends.push(make(0), make(1));
  return ends;
}
flows.pair_to_pair = () => {
  const [clientSide, serverSide] = memoryPair();
  const server = new tls.TLSSocket(serverSide, { ...options('server.'), isServer: true });
  server.on('secure', () => { T('server', 'secure'); getters('server', server, list('trace.server'), null); });
  const got = collector('server', server);
  server.on('end', () => { got.flush(); T('server', 'end'); }); // the scenario's end: the streams never close
  const client = tls.connect({ ...options('client.'), socket: clientSide });
  client.on('secureConnect', () => {
    T('client', 'secureConnect');
    getters('client', client, list('trace.client'), null);
    client.end(get('send', 'hello'));
  });
};

// A TLS client over a stream of the program's own that carries a plain TCP connection (Node's
// test-tls-connect-stream-writes): 50 writes of `send`, then end; the server receives them
// all. The C driver's twin is an ntls_pair whose ciphertext the driver moves over the socket.
flows.pair_over_tcp = () => {
  const { Duplex } = require('stream');
  const srv = makeServer();
  srv.on('secureConnection', (c) => {
    c.on('error', () => {});
    const got = collector('server', c);
    c.on('end', () => { got.flush(); T('server', 'end'); srv.close(); });
  });
  listen(srv, (port) => {
    const raw = net.connect(port, '127.0.0.1');
    const carrier = new Duplex({
      read() {},
      write(data, enc, cb) { raw.write(data, enc, cb); },
      final(cb) { raw.end(); cb(); },
    });
    raw.on('data', (d) => carrier.push(d));
    raw.on('end', () => carrier.push(null));
    raw.on('error', () => {});
    const s = tls.connect({ ...options('client.'), socket: carrier });
    s.on('secureConnect', () => {
      T('client', 'secureConnect');
      for (let i = 0; i < 50; i++) s.write(get('send', 'hello'));
      s.end();
    });
    s.on('error', (e) => T('client', `error ${code(e)}`));
  });
};

if (!flows[get('flow', 'basic')]) {
  console.error(`unknown flow ${get('flow')}`);
  process.exit(64);
}
// A closed port for `client.port = closed`, and a free one for `client.localPort = free`.
const probe = net.createServer().listen(0, '127.0.0.1', () => {
  closedPort = probe.address().port;
  probe.close(() => {
    const probe2 = net.createServer().listen(0, '127.0.0.1', () => {
      freePort = probe2.address().port;
      probe2.close(() => {
        if (onPath) fs.rmSync(sockPath, { force: true });
        flows[get('flow', 'basic')]();
      });
    });
  });
});
