"""Scanners and independent peers against the example server (examples-c/echo_server.c).

    python3 scanners.py {sslyze|testssl|tlslite} ECHO_SERVER_BINARY CERT_DIR

Starts nodetls-echo-server on 127.0.0.1:0 with an RSA certificate (the case with most to get
wrong: RSA key transport, CBC suites), runs the tool, and asserts its findings, not only that
it ran: TLS 1.2 and 1.3 only, every accepted suite an AEAD with forward secrecy (ECDHE or
TLS 1.3), client renegotiation refused, nothing vulnerable. Prints a summary, one finding a
line, that docs/reliability.md quotes.
"""
import json
import os
import socket
import subprocess
import sys
import tempfile
import time

AEAD = ("GCM", "CHACHA20", "POLY1305")


def start_server(binary, certs):
    p = subprocess.Popen([binary, "--port", "0", "--key", os.path.join(certs, "server-rsa-key.pem"),
                          "--cert", os.path.join(certs, "server-rsa-cert.pem")],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("listening on"):
        p.kill()
        sys.exit("echo server did not start: %r" % line)
    return p, int(line.strip().rsplit(":", 1)[1])


failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what, flush=True)
    if not ok:
        failures.append(what)


def aead_with_fs(name):
    tls13 = not name.startswith("TLS_ECDHE_") and not "_WITH_" in name
    fs = tls13 or name.startswith(("TLS_ECDHE_", "ECDHE-"))
    return fs and any(a in name for a in AEAD)


def sslyze(port):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    cmds = ["--sslv2", "--sslv3", "--tlsv1", "--tlsv1_1", "--tlsv1_2", "--tlsv1_3", "--reneg", "--heartbleed",
            "--openssl_ccs", "--robot", "--fallback", "--compression", "--elliptic_curves", "--early_data"]
    subprocess.run([sys.executable, "-m", "sslyze", "--quiet", "--json_out=" + out] + cmds + ["127.0.0.1:%d" % port],
                   check=True, timeout=120)
    r = json.load(open(out))["server_scan_results"][0]
    os.unlink(out)
    check(r["scan_status"] == "COMPLETED", "sslyze: scan completed")
    s = {k: (v or {}).get("result") for k, v in r["scan_result"].items()}
    names = lambda k: [c["cipher_suite"]["name"] for c in s[k]["accepted_cipher_suites"]]
    for old in ("ssl_2_0", "ssl_3_0", "tls_1_0", "tls_1_1"):
        check(names(old + "_cipher_suites") == [], "sslyze: %s refused (no suite accepted)" % old)
    for v in ("tls_1_2", "tls_1_3"):
        got = names(v + "_cipher_suites")
        check(len(got) > 0 and all(aead_with_fs(n) for n in got),
              "sslyze: %s accepted, AEAD with forward secrecy only: %s" % (v, ", ".join(got)))
    reneg = s["session_renegotiation"]
    check(not reneg["is_vulnerable_to_client_renegotiation_dos"] and reneg["client_renegotiations_success_count"] == 0,
          "sslyze: client renegotiation refused (0 accepted)")
    check(not s["heartbleed"]["is_vulnerable_to_heartbleed"], "sslyze: not vulnerable to Heartbleed")
    check(not s["openssl_ccs_injection"]["is_vulnerable_to_ccs_injection"], "sslyze: not vulnerable to CCS injection")
    check(s["robot"]["robot_result"].startswith("NOT_VULNERABLE"), "sslyze: ROBOT " + s["robot"]["robot_result"])
    check(not s["tls_compression"]["supports_compression"], "sslyze: compression off (CRIME)")
    check(s["tls_fallback_scsv"]["supports_fallback_scsv"], "sslyze: TLS_FALLBACK_SCSV honoured")
    check(not s["tls_1_3_early_data"]["supports_early_data"], "sslyze: no 0-RTT early data")
    curves = [c["name"] for c in s["elliptic_curves"]["supported_curves"]]
    print("info  sslyze: groups " + ", ".join(curves))


def testssl(port):
    out = tempfile.NamedTemporaryFile(suffix=".json", delete=False).name
    os.unlink(out)
    # Protocols, forward secrecy, renegotiation, the vulnerability checks and the suites of
    # each protocol; sequential (testssl's default), without its HTTP checks.
    subprocess.run(["testssl", "--quiet", "--color", "0", "--warnings", "off", "--ip", "one", "-p", "-f", "-R", "-U",
                    "-E", "--jsonfile-pretty", out, "127.0.0.1:%d" % port],
                   check=False, timeout=280, stdout=subprocess.DEVNULL)
    r = json.load(open(out))["scanResult"][0]
    os.unlink(out)
    f = {x["id"]: x for sec in r.values() if isinstance(sec, list) for x in sec}
    for old in ("SSLv2", "SSLv3", "TLS1", "TLS1_1"):
        check(f[old]["finding"].startswith("not offered"), "testssl: %s %s" % (old, f[old]["finding"]))
    for new in ("TLS1_2", "TLS1_3"):
        check(f[new]["finding"].startswith("offered"), "testssl: %s %s" % (new, f[new]["finding"]))
    check(f["PFS"]["severity"] == "OK", "testssl: forward secrecy " + f["PFS"]["finding"])
    suites = [x["finding"].split()[3] for i, x in f.items() if i.startswith("cipher-tls")]
    check(len(suites) > 0 and all(aead_with_fs(n) for n in suites),
          "testssl: suites offered, AEAD with forward secrecy only: " + ", ".join(suites))
    vulns = [x for x in r["vulnerabilities"] if x["severity"] not in ("OK", "INFO")]
    check(vulns == [], "testssl: %d vulnerability checks, none above INFO%s" % (
        len(r["vulnerabilities"]), "" if not vulns else ": " + ", ".join(v["id"] for v in vulns)))
    check(f["secure_client_renego"]["finding"] == "not vulnerable",
          "testssl: client-initiated renegotiation " + f["secure_client_renego"]["finding"])
    for v in ("heartbleed", "CCS", "ROBOT", "POODLE_SSL", "SWEET32", "FREAK", "DROWN", "LOGJAM", "BEAST",
              "LUCKY13", "RC4", "CRIME_TLS"):
        check(f[v]["severity"] == "OK", "testssl: %s %s" % (v, f[v]["finding"]))


def tlslite(port):
    from tlslite.api import TLSConnection, HandshakeSettings
    from tlslite.errors import TLSError

    def attempt(**kw):
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        c = TLSConnection(s)
        st = HandshakeSettings()
        for k, v in kw.items():
            setattr(st, k, v)
        try:
            c.handshakeClientCert(settings=st, serverName="localhost")
            c.write(b"echo me")
            echoed = c.read(max=7, min=7)
            res = (c.version, c.getCipherName(), c.session.serverCertChain is not None, bytes(echoed))
            c.close()
            return res
        except (TLSError, OSError) as e:
            return type(e).__name__ + ": " + str(e)[:80]
        finally:
            s.close()

    for ver in ((3, 4), (3, 3)):
        r = attempt(minVersion=ver, maxVersion=ver)
        check(isinstance(r, tuple) and r[0] == ver and r[3] == b"echo me",
              "tlslite-ng: TLS %s handshake and echo: %s" % ({(3, 4): "1.3", (3, 3): "1.2"}[ver], r))
    for ver, name in (((3, 2), "1.1"), ((3, 1), "1.0")):
        r = attempt(minVersion=ver, maxVersion=ver)
        check(isinstance(r, str), "tlslite-ng: TLS %s refused: %s" % (name, r))
    tls12 = dict(minVersion=(3, 3), maxVersion=(3, 3))
    r = attempt(cipherNames=["aes256", "aes128", "3des"], macNames=["sha", "sha256", "sha384"], **tls12)
    check(isinstance(r, str), "tlslite-ng: TLS 1.2 offering only CBC and 3DES suites refused: %s" % r)
    r = attempt(keyExchangeNames=["rsa"], **tls12)
    check(isinstance(r, str), "tlslite-ng: TLS 1.2 offering only RSA key transport refused: %s" % r)
    r = attempt(keyExchangeNames=["dhe_rsa"], **tls12)
    check(isinstance(r, str), "tlslite-ng: TLS 1.2 offering only finite-field DHE refused: %s" % r)
    r = attempt(keyExchangeNames=["ecdhe_rsa"], cipherNames=["aes128gcm"], **tls12)
    check(isinstance(r, tuple) and r[1] == "aes128gcm", "tlslite-ng: TLS 1.2 ECDHE-RSA-AES128-GCM accepted: %s" % (r,))


if __name__ == "__main__":
    tool, binary, certs = sys.argv[1:4]
    server, port = start_server(binary, certs)
    t0 = time.time()
    try:
        {"sslyze": sslyze, "testssl": testssl, "tlslite": tlslite}[tool](port)
    finally:
        server.terminate()
        rc = server.wait(timeout=10)
    check(rc == 0, "echo server stopped cleanly on SIGTERM (exit %s)" % rc)
    print("%s: %d findings failed, %.1f s" % (tool, len(failures), time.time() - t0))
    sys.exit(1 if failures else 0)
