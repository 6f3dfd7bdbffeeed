"""`openssl speed` on the server's CPU: the physical limits the costs are compared with."""

import re
import subprocess

from . import procs

TIMEOUT = 60


def _speed(args):
    cmd = procs.pinned(procs.SERVER_CPU, ["openssl", "speed", "-seconds", "1"] + args)
    return procs.run_bounded(cmd, TIMEOUT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout


def measure():
    """{'aes_ns_per_byte', 'ecdsa_us', 'rsa_us', 'x25519_us', 'version'}; missing if unparsed."""
    out = {}
    text = _speed(["-bytes", "16384", "-evp", "aes-128-gcm"])
    m = re.search(r"AES-128-GCM\s+([\d.]+)k", text, re.I)
    if m:
        out["aes_ns_per_byte"] = 1e9 / (float(m.group(1)) * 1000)
    text = _speed(["ecdsap256", "rsa2048", "ecdhx25519"])
    # The per-operation seconds are printed with 4 decimals (0.0000s); the rates are exact.
    for key, pat in (("rsa_us", r"rsa 2048 bits\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)"),
                     ("ecdsa_us", r"256 bits ecdsa \(nistp256\)\s+[\d.]+s\s+[\d.]+s\s+([\d.]+)"),
                     ("x25519_us", r"253 bits ecdh \(X25519\)\s+[\d.]+s\s+([\d.]+)")):
        m = re.search(pat, text)
        if m:
            out[key] = 1e6 / float(m.group(1))
    version = procs.run_bounded(["openssl", "version"], 10, stdout=subprocess.PIPE, text=True).stdout
    out["version"] = " ".join(version.split()[:2])
    return out


def floor(mode, o, c):
    """(what, value, unit) the mode's main cost cannot go below, or None."""
    sign = c.get("ecdsa_us" if o.cert == "ec" else "rsa_us")
    x = c.get("x25519_us")
    if mode == "handshake" and sign and x:
        if o.resume and o.tls12:
            return None  # an abbreviated TLS 1.2 handshake does no public-key operation
        if o.resume:
            return ("2 × X25519 (psk_dhe_ke: key share made and used)", 2 * x, "µs")
        return (f"{o.cert.upper()} sign + 2 × X25519", sign + 2 * x, "µs")
    if mode == "bulk" and "aes_ns_per_byte" in c:
        return ("AES-128-GCM, one pass per byte the server moves", c["aes_ns_per_byte"], "ns/byte")
    return None


def report(c):
    """Prints the ceilings."""
    print(f"\nopenssl speed on CPU {procs.SERVER_CPU} ({c.get('version', 'openssl')}), the physical limits:")
    rows = (("AES-128-GCM, 16 KiB blocks", "aes_ns_per_byte", "ns/byte", 3),
            ("ECDSA P-256 sign", "ecdsa_us", "µs", 1),
            ("RSA-2048 sign", "rsa_us", "µs", 1),
            ("X25519 derive", "x25519_us", "µs", 1))
    for label, key, unit, digits in rows:
        value = f"{c[key]:.{digits}f} {unit}" if key in c else "(not measured)"
        print(f"  {label:28} {value}")
