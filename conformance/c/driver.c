/* The nodetls side of the differential runner: runs one scenario of conformance/scenarios.txt
 * on nodetls, through the public header only, and prints its trace in the format of
 * conformance/node/driver.js ("<side> <event>", one per line). Each flow below is the C twin
 * of the Node driver's flow of the same name: same steps, same trace lines.
 *
 * usage: conformance_driver SCENARIO CERT_DIR SCENARIOS_FILE */
#define _GNU_SOURCE
#include "nodetls.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- small things -------------------------------------------------------------------------- */
static void die(const char *what) {
    fprintf(stderr, "conformance_driver: %s\n", what);
    exit(64);
}
static void *xmalloc(size_t n) {
    void *p = calloc(1, n ? n : 1);
    if (!p) die("out of memory");
    return p;
}
static char *xstrdup(const char *s) {
    char *p = strdup(s);
    if (!p) die("out of memory");
    return p;
}
static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}
static char *trim(char *s) {
    while (*s == ' ' || *s == '\t') s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n')) s[--n] = 0;
    return s;
}

/* ---- the scenario file ----------------------------------------------------------------------- */
#define MAX_KEYS 128
static char *keys[MAX_KEYS], *vals[MAX_KEYS];
static int nkeys;
static const char *cert_dir;

static int find_key(const char *k) {
    for (int i = 0; i < nkeys; i++)
        if (strcmp(keys[i], k) == 0) return i;
    return -1;
}
static void put(const char *k, const char *v) {
    int i = find_key(k);
    if (i >= 0) {
        free(vals[i]);
        vals[i] = xstrdup(v);
        return;
    }
    if (nkeys == MAX_KEYS) die("too many keys");
    keys[nkeys] = xstrdup(k);
    vals[nkeys++] = xstrdup(v);
}
static void drop(int i) {
    free(keys[i]);
    free(vals[i]);
    keys[i] = keys[nkeys - 1];
    vals[i] = vals[nkeys - 1];
    nkeys--;
}
static const char *get(const char *k, const char *def) {
    int i = find_key(k);
    return i >= 0 ? vals[i] : def;
}
static int has(const char *k) { return find_key(k) >= 0; }
static long num(const char *k, long def) {
    const char *v = get(k, NULL);
    return v ? strtol(v, NULL, 10) : def;
}
static void load_spec(const char *file, const char *name) {
    FILE *f = fopen(file, "r");
    if (!f) die("cannot open the scenarios file");
    char line[4096];
    int section = 0; /* 0: other, 1: defaults, 2: ours */
    int found = 0;
    /* Defaults first, then the scenario: two passes keep the file's order irrelevant. */
    for (int pass = 0; pass < 2; pass++) {
        rewind(f);
        section = 0;
        while (fgets(line, sizeof line, f)) {
            char *l = trim(line);
            if (!*l || *l == '#') continue;
            if (*l == '[') {
                char *e = strchr(l, ']');
                if (!e) die("bad section line");
                *e = 0;
                section = strcmp(l + 1, "defaults") == 0 ? 1 : strcmp(l + 1, name) == 0 ? 2 : 0;
                if (section == 2) found = 1;
                continue;
            }
            if ((pass == 0 && section != 1) || (pass == 1 && section != 2)) continue;
            char *eq = strchr(l, '=');
            if (!eq) die("bad line in the scenarios file");
            *eq = 0;
            put(trim(l), trim(eq + 1));
        }
    }
    fclose(f);
    if (!found) die("no such scenario");
    for (int i = nkeys - 1; i >= 0; i--)
        if (strcmp(vals[i], "!") == 0) drop(i);
}

static uint8_t *read_cert(const char *name, size_t *len) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", cert_dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s\n", path);
        exit(64);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    uint8_t *b = xmalloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    fclose(f);
    return b;
}
/* "@a+b": the files concatenated. */
static uint8_t *read_files(const char *spec, size_t *len) {
    char *copy = xstrdup(spec), *save = NULL;
    uint8_t *all = NULL;
    size_t total = 0;
    for (char *p = strtok_r(copy, "+", &save); p; p = strtok_r(NULL, "+", &save)) {
        size_t n;
        uint8_t *b = read_cert(p, &n);
        all = realloc(all, total + n + 1);
        if (!all) die("out of memory");
        memcpy(all + total, b, n);
        total += n;
        free(b);
    }
    free(copy);
    *len = total;
    return all;
}

/* ---- the trace ------------------------------------------------------------------------------ */
static pthread_mutex_t trace_mu = PTHREAD_MUTEX_INITIALIZER;
static void T(const char *side, const char *fmt, ...) {
    char buf[65536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pthread_mutex_lock(&trace_mu);
    printf("%s %s\n", side, buf);
    fflush(stdout);
    pthread_mutex_unlock(&trace_mu);
}
static const char *B(int v) { return v ? "true" : "false"; }
/* An error as the trace shows it: Node's code, with the words for the host-name check. */
static void err_line(const ntls_error *e, char *out, size_t n) {
    const char *code = ntls_error_code(e);
    if (code && strcmp(code, "ERR_TLS_CERT_ALTNAME_INVALID") == 0)
        snprintf(out, n, "%s %s", code, ntls_error_message(e));
    else
        snprintf(out, n, "%s", code ? code : "undefined");
}
static void preview(const uint8_t *b, size_t n, char *out) {
    char *o = out;
    *o++ = '"';
    for (size_t i = 0; i < n && i < 40; i++) {
        uint8_t c = b[i];
        if (c >= 0x20 && c < 0x7f && c != '"' && c != '\\')
            *o++ = (char)c;
        else
            o += sprintf(o, "\\x%02x", c);
    }
    if (n > 40) o += sprintf(o, "...");
    *o++ = '"';
    *o = 0;
}

/* ---- a tiny JSON reader (certificate objects) -------------------------------------------------- */
typedef struct jv {
    char type; /* o a s n t f z */
    char *str;
    int n;
    char **k;
    struct jv **v;
} jv;
static void json_ws(const char **p) {
    while (**p == ' ' || **p == '\n' || **p == '\t' || **p == '\r') (*p)++;
}
static void utf8_put(char **o, unsigned cp) {
    if (cp < 0x80)
        *(*o)++ = (char)cp;
    else if (cp < 0x800) {
        *(*o)++ = (char)(0xc0 | (cp >> 6));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *(*o)++ = (char)(0xe0 | (cp >> 12));
        *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *(*o)++ = (char)(0xf0 | (cp >> 18));
        *(*o)++ = (char)(0x80 | ((cp >> 12) & 0x3f));
        *(*o)++ = (char)(0x80 | ((cp >> 6) & 0x3f));
        *(*o)++ = (char)(0x80 | (cp & 0x3f));
    }
}
static char *json_str(const char **p) {
    (*p)++;
    char *out = xmalloc(strlen(*p) + 1), *o = out;
    while (**p && **p != '"') {
        if (**p == '\\') {
            (*p)++;
            char c = *(*p)++;
            switch (c) {
                case 'n': *o++ = '\n'; break;
                case 't': *o++ = '\t'; break;
                case 'r': *o++ = '\r'; break;
                case 'b': *o++ = '\b'; break;
                case 'f': *o++ = '\f'; break;
                case 'u': {
                    unsigned cp = (unsigned)strtoul((char[5]){(*p)[0], (*p)[1], (*p)[2], (*p)[3], 0}, NULL, 16);
                    *p += 4;
                    if (cp >= 0xd800 && cp < 0xdc00 && (*p)[0] == '\\' && (*p)[1] == 'u') {
                        unsigned lo = (unsigned)strtoul((char[5]){(*p)[2], (*p)[3], (*p)[4], (*p)[5], 0}, NULL, 16);
                        *p += 6;
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
                    }
                    utf8_put(&o, cp);
                    break;
                }
                default: *o++ = c;
            }
        } else {
            *o++ = *(*p)++;
        }
    }
    if (**p == '"') (*p)++;
    *o = 0;
    return out;
}
static jv *json_val(const char **p) {
    json_ws(p);
    jv *v = xmalloc(sizeof *v);
    if (**p == '{' || **p == '[') {
        char close = **p == '{' ? '}' : ']';
        v->type = **p == '{' ? 'o' : 'a';
        (*p)++;
        for (;;) {
            json_ws(p);
            if (**p == close || !**p) break;
            v->k = realloc(v->k, sizeof(char *) * (size_t)(v->n + 1));
            v->v = realloc(v->v, sizeof(jv *) * (size_t)(v->n + 1));
            if (!v->k || !v->v) die("out of memory");
            v->k[v->n] = NULL;
            if (v->type == 'o') {
                v->k[v->n] = json_str(p);
                json_ws(p);
                if (**p == ':') (*p)++;
            }
            v->v[v->n] = json_val(p);
            v->n++;
            json_ws(p);
            if (**p == ',') (*p)++;
        }
        if (**p) (*p)++;
    } else if (**p == '"') {
        v->type = 's';
        v->str = json_str(p);
    } else {
        const char *s = *p;
        while (**p && **p != ',' && **p != '}' && **p != ']') (*p)++;
        v->type = *s == 't' ? 't' : *s == 'f' ? 'f' : *s == 'n' ? 'z' : 'n';
        v->str = strndup(s, (size_t)(*p - s));
    }
    return v;
}
static jv *json_get(const jv *o, const char *k) {
    if (!o || o->type != 'o') return NULL;
    for (int i = 0; i < o->n; i++)
        if (strcmp(o->k[i], k) == 0) return o->v[i];
    return NULL;
}
static void json_free(jv *v) {
    if (!v) return;
    for (int i = 0; i < v->n; i++) {
        free(v->k[i]);
        json_free(v->v[i]);
    }
    free(v->k);
    free(v->v);
    free(v->str);
    free(v);
}
/* subject.CN as Node prints it (undefined when absent; an array's values joined with ','). */
static void cn_of(const jv *cert, char *out, size_t n) {
    const jv *cn = json_get(json_get(cert, "subject"), "CN");
    if (!cn)
        snprintf(out, n, "undefined");
    else if (cn->type == 's')
        snprintf(out, n, "%s", cn->str);
    else if (cn->type == 'a') {
        out[0] = 0;
        for (int i = 0; i < cn->n; i++) {
            if (i) strncat(out, ",", n - strlen(out) - 1);
            strncat(out, cn->v[i]->str ? cn->v[i]->str : "", n - strlen(out) - 1);
        }
    } else
        snprintf(out, n, "%s", cn->str ? cn->str : "?");
}

/* ---- the end of a scenario ------------------------------------------------------------------------ */
/* Like Node's process, the scenario is over when nothing is left: every listener, socket and
 * pending timer counts, and the last one to go ends the run. */
static atomic_int pending;
static atomic_int finished;
static ntls_loop *loop;
static void hold(void) { atomic_fetch_add(&pending, 1); }
static void release(void) {
    if (atomic_fetch_sub(&pending, 1) == 1) atomic_store(&finished, 1);
}

typedef void (*task_fn)(void *arg);
typedef struct {
    int ms;
    task_fn fn;
    void *arg;
} later_t;
static void later_run(void *p) {
    later_t *l = p;
    l->fn(l->arg);
    free(l);
    release();
}
static void *later_thread(void *p) {
    later_t *l = p;
    if (l->ms > 0) sleep_ms(l->ms);
    if (ntls_loop_call(loop, later_run, l) != 0) die("loop_call");
    return NULL;
}
/* setTimeout(fn, ms) on the loop thread; ms 0: setImmediate. */
static void later(int ms, task_fn fn, void *arg) {
    later_t *l = xmalloc(sizeof *l);
    l->ms = ms;
    l->fn = fn;
    l->arg = arg;
    hold();
    if (ms == 0) {
        if (ntls_loop_call(loop, later_run, l) != 0) die("loop_call");
        return;
    }
    pthread_t t;
    if (pthread_create(&t, NULL, later_thread, l) != 0) die("pthread_create");
    pthread_detach(t);
}
/* Runs fn on a thread of its own (blocking work: plain sockets, child processes). */
static void in_thread(void *(*fn)(void *), void *arg) {
    pthread_t t;
    if (pthread_create(&t, NULL, fn, arg) != 0) die("pthread_create");
    pthread_detach(t);
}

/* ---- options ------------------------------------------------------------------------------------- */
#define MAX_CTX 8
static char ctx_names[MAX_CTX][32];
static ntls_context *ctx_objs[MAX_CTX];
static int nctx;
static ntls_options *options(const char *prefix, const char *side, int *ok);

static ntls_context *context(const char *name) {
    for (int i = 0; i < nctx; i++)
        if (strcmp(ctx_names[i], name) == 0) return ctx_objs[i];
    char prefix[40];
    snprintf(prefix, sizeof prefix, "%s.", name);
    int ok;
    ntls_options *o = options(prefix, name, &ok);
    ntls_context *c = NULL;
    if (!ok || ntls_context_new(o, &c) != 0) {
        T("driver", "createSecureContext %s failed: %s", name, ntls_options_last_error(o));
        c = NULL;
    }
    ntls_options_unref(o);
    if (nctx < MAX_CTX) {
        snprintf(ctx_names[nctx], sizeof ctx_names[nctx], "%s", name);
        ctx_objs[nctx++] = c;
    }
    return c;
}

static int is_int(const char *v) {
    if (*v == '-') v++;
    if (!*v) return 0;
    for (; *v; v++)
        if (*v < '0' || *v > '9') return 0;
    return 1;
}
/* One value of the scenario file; `add`: an item of a list. */
static int set_value(ntls_options *o, int key, const char *v, int add) {
    if (v[0] == '@') {
        char *spec = xstrdup(v + 1);
        char *pass = strchr(spec, '#');
        if (pass) *pass++ = 0;
        size_t n;
        uint8_t *b = read_files(spec, &n);
        int rc = pass ? ntls_options_add_key(o, b, n, pass)
                      : add ? ntls_options_add_bytes(o, key, b, n) : ntls_options_set_bytes(o, key, b, n);
        free(b);
        free(spec);
        return rc;
    }
    if (strncmp(v, "ctx:", 4) == 0) {
        ntls_context *c = context(v + 4);
        return c ? ntls_options_set_context(o, key, c) : NTLS_EINVAL;
    }
    if (strncmp(v, "hex:", 4) == 0) {
        size_t n = strlen(v + 4) / 2;
        uint8_t *b = xmalloc(n);
        for (size_t i = 0; i < n; i++) sscanf(v + 4 + 2 * i, "%2hhx", &b[i]);
        int rc = ntls_options_set_bytes(o, key, b, n);
        free(b);
        return rc;
    }
    if (v[0] == '"') {
        char *s = xstrdup(v + 1);
        if (*s && s[strlen(s) - 1] == '"') s[strlen(s) - 1] = 0;
        int rc = add ? ntls_options_add_string(o, key, s) : ntls_options_set_string(o, key, s);
        free(s);
        return rc;
    }
    if (!add && (strcmp(v, "true") == 0 || strcmp(v, "false") == 0)) return ntls_options_set_bool(o, key, v[0] == 't');
    if (!add && is_int(v)) return ntls_options_set_int(o, key, strtoll(v, NULL, 10));
    return add ? ntls_options_add_string(o, key, v) : ntls_options_set_string(o, key, v);
}
/* The options under a prefix ("server.", "client."); *ok is 0 if one was refused. */
static ntls_options *options(const char *prefix, const char *side, int *ok) {
    ntls_options *o;
    if (ntls_options_new(&o) != 0) die("options_new");
    *ok = 1;
    size_t pl = strlen(prefix);
    for (int i = 0; i < nkeys; i++) {
        if (strncmp(keys[i], prefix, pl) != 0) continue;
        const char *name = keys[i] + pl;
        if (strcmp(name, "port") == 0 && strcmp(vals[i], "closed") == 0) continue;
        if (strcmp(name, "localPort") == 0 && strcmp(vals[i], "free") == 0) continue;
        if (strcmp(name, "checkServerIdentity") == 0) continue; /* a callback: connect_client */
        int key = ntls_options_key(o, name);
        if (key < 0) {
            T("driver", "%s option %s: %s", side, name, ntls_options_last_error(o));
            *ok = 0;
            continue;
        }
        const char *v = vals[i];
        int rc = 0;
        size_t vl = strlen(v);
        if (v[0] == '[' && v[vl - 1] == ']') {
            char *inner = strndup(v + 1, vl - 2), *save = NULL;
            for (char *item = strtok_r(inner, ",", &save); item && rc == 0; item = strtok_r(NULL, ",", &save))
                rc = set_value(o, key, trim(item), 1);
            free(inner);
        } else {
            rc = set_value(o, key, v, 0);
        }
        if (rc != 0) *ok = 0;
    }
    return o;
}

/* ---- sockets ----------------------------------------------------------------------------------- */
typedef struct sock sock;
typedef void (*sock_fn)(sock *k);
struct sock {
    char side[16];
    int port;     /* the listening port, for the address getters */
    int is_client;
    uint8_t head[64];
    size_t n, total, largest;
    const char *close_trace; /* key of the getters traced after close */
    sock_fn on_secure, on_data, on_close, on_end, on_timeout;
    int quiet_end; /* no "end" line (the Node flow has no end listener) */
    int ended;        /* the flow called end() */
    int closed;       /* close was emitted */
    void *user;
    ntls_socket *s;
    ntls_server *srv; /* the server to close when this client closes (basic) */
};
static sock *new_sock(const char *side, int port, int is_client) {
    sock *k = xmalloc(sizeof *k);
    snprintf(k->side, sizeof k->side, "%s", side);
    k->port = port;
    k->is_client = is_client;
    return k;
}
static void flush_data(sock *k) {
    if (k->n == 0) return;
    char pv[256];
    preview(k->head, k->n, pv);
    T(k->side, "data %zu %s", k->n, pv);
    k->n = 0;
}
static int free_port; /* `client.localPort = free` */
/* `listen = path`: on a Unix socket (the driver's own path), else on a loopback port. */
static char sock_path[64];
static int on_path(void) { return strcmp(get("listen", ""), "path") == 0; }

static const char *port_name(int rc, int port, const sock *k, char *buf) {
    if (rc != 0) return "undefined";
    snprintf(buf, 16, "%s", port == k->port ? "server" : port == free_port ? "localPort" : "other");
    return buf;
}

/* A value both ends compute (keying material, Finished messages): the side computing it second
 * traces, on the side "both", whether the two agree (see the Node driver). */
static pthread_mutex_t share_mu = PTHREAD_MUTEX_INITIALIZER;
static char *shared_names[4], *shared_values[4];
static void share(const char *what, const uint8_t *b, size_t n) {
    char *hex = xmalloc(2 * n + 1);
    for (size_t i = 0; i < n; i++) sprintf(hex + 2 * i, "%02x", b[i]);
    pthread_mutex_lock(&share_mu);
    int i = 0;
    while (i < 4 && shared_names[i] && strcmp(shared_names[i], what) != 0) i++;
    if (i < 4 && !shared_names[i]) {
        shared_names[i] = xstrdup(what);
        shared_values[i] = hex;
        hex = NULL;
    } else if (i < 4) {
        T("both", "%s equal %s", what, B(strcmp(shared_values[i], hex) == 0));
    }
    pthread_mutex_unlock(&share_mu);
    free(hex);
}

/* The kernel's keep-alive timer of the TCP connection between two ports, from /proc/net/tcp
 * (see the Node driver). */
static void keepalive_timer(int local, int remote, char *out, size_t n) {
    char lp[8], rp[8], line[512];
    snprintf(lp, sizeof lp, ":%04X", local);
    snprintf(rp, sizeof rp, ":%04X", remote);
    for (int tries = 0; tries < 50; tries++) {
        FILE *f = fopen("/proc/net/tcp", "r");
        if (!f) break;
        int retransmit = 0;
        while (fgets(line, sizeof line, f)) {
            char a[64], b[64], st[8], q[32], timer[32];
            if (sscanf(line, " %*s %63s %63s %7s %31s %31s", a, b, st, q, timer) != 5) continue;
            size_t al = strlen(a), bl = strlen(b);
            if (al < 5 || bl < 5 || strcmp(a + al - 5, lp) != 0 || strcmp(b + bl - 5, rp) != 0) continue;
            if (strncmp(timer, "01:", 3) == 0) {
                retransmit = 1;
                break;
            }
            fclose(f);
            if (strncmp(timer, "02:", 3) == 0)
                snprintf(out, n, "on %lds", (strtol(timer + 3, NULL, 16) + 99) / 100);
            else
                snprintf(out, n, "off");
            return;
        }
        fclose(f);
        if (!retransmit) break;
        sleep_ms(10);
    }
    snprintf(out, n, "not found");
}

/* Key-log lines by socket: a server's connection logs before its secureConnection. */
#define MAX_KEYLOG 8
static struct {
    const ntls_socket *s;
    int n;
    char labels[16][48];
} keylogs[MAX_KEYLOG];
static pthread_mutex_t keylog_mu = PTHREAD_MUTEX_INITIALIZER;
static void keylog_line(const ntls_socket *s, const uint8_t *line, size_t len) {
    pthread_mutex_lock(&keylog_mu);
    int i = 0;
    while (i < MAX_KEYLOG && keylogs[i].s && keylogs[i].s != s) i++;
    if (i < MAX_KEYLOG) {
        keylogs[i].s = s;
        size_t w = 0;
        while (w < len && w < 47 && line[w] != ' ') w++;
        if (keylogs[i].n < 16) {
            memcpy(keylogs[i].labels[keylogs[i].n], line, w);
            keylogs[i].labels[keylogs[i].n][w] = 0;
        }
        keylogs[i].n++;
    }
    pthread_mutex_unlock(&keylog_mu);
}
static int cmp_str(const void *a, const void *b) { return strcmp(a, b); }
static void keylog_trace(const char *side, const ntls_socket *s) {
    char labels[16][48], out[1024] = "";
    int n = 0, kept = 0;
    pthread_mutex_lock(&keylog_mu);
    for (int i = 0; i < MAX_KEYLOG; i++)
        if (keylogs[i].s == s) {
            n = keylogs[i].n;
            kept = n < 16 ? n : 16;
            memcpy(labels, keylogs[i].labels, sizeof labels);
        }
    pthread_mutex_unlock(&keylog_mu);
    qsort(labels, (size_t)kept, sizeof labels[0], cmp_str);
    for (int i = 0; i < kept; i++) {
        if (i && strcmp(labels[i], labels[i - 1]) == 0) continue;
        if (*out) strcat(out, " ");
        strcat(out, labels[i]);
    }
    T(side, "keylog %d lines: %s", n, out);
}
static void socket_keylog_cb(ntls_socket *s, const uint8_t *line, size_t len, void *data) {
    (void)data;
    keylog_line(s, line, len);
}
static void server_keylog_cb(ntls_server *srv, ntls_socket *s, const uint8_t *line, size_t len, void *data) {
    (void)srv;
    (void)data;
    keylog_line(s, line, len);
}

/* exportKeyingMaterial as test-tls-exportkeyingmaterial calls it; the C statuses named as the
 * errors Node throws for the same calls (ENOTCONN: ERR_TLS_INVALID_STATE; EINVAL for 128 bytes
 * without a context, where only the label can be wrong: ERR_SSL_TLS_ILLEGAL_EXPORTER_LABEL; a
 * length of 0: ERR_OUT_OF_RANGE). */
static void ekm_trace(const char *side, const ntls_socket *s) {
    static const char *label = "client finished";
    static const uint8_t ctx4[4] = {0, 1, 2, 3};
    uint8_t plain[128], with_ctx[128], empty_ctx[128];
    int rc = ntls_socket_export_keying_material(s, plain, sizeof plain, label, NULL, 0);
    if (rc != 0) {
        T(side, "exportKeyingMaterial threw %s",
          rc == NTLS_ENOTCONN ? "ERR_TLS_INVALID_STATE"
          : rc == NTLS_EINVAL ? "ERR_SSL_TLS_ILLEGAL_EXPORTER_LABEL"
                              : ntls_err_name(rc));
        return;
    }
    int r2 = ntls_socket_export_keying_material(s, with_ctx, sizeof with_ctx, label, ctx4, sizeof ctx4);
    int r3 = ntls_socket_export_keying_material(s, empty_ctx, sizeof empty_ctx, label, (const uint8_t *)"", 0);
    T(side, "exportKeyingMaterial %d %d %d context changes it %s", 128, r2 == 0 ? 128 : r2, r3 == 0 ? 128 : r3,
      B(memcmp(plain, with_ctx, sizeof plain) != 0));
    share("exportKeyingMaterial", plain, sizeof plain);
    rc = ntls_socket_export_keying_material(s, plain, 0, label, NULL, 0);
    if (rc == 0)
        T(side, "exportKeyingMaterial(0) returned");
    else
        T(side, "exportKeyingMaterial(0) threw %s", rc == NTLS_EINVAL ? "ERR_OUT_OF_RANGE" : ntls_err_name(rc));
}
static void finished_trace(sock *k) {
    const uint8_t *own = NULL, *peer = NULL;
    size_t own_len = 0, peer_len = 0;
    int ro = ntls_socket_get_finished(k->s, 0, &own, &own_len);
    int rp = ntls_socket_get_finished(k->s, 1, &peer, &peer_len);
    char a[32], b[32];
    snprintf(a, sizeof a, "%zu", own_len);
    snprintf(b, sizeof b, "%zu", peer_len);
    T(k->side, "getFinished %s getPeerFinished %s", ro ? ntls_err_name(ro) : a, rp ? ntls_err_name(rp) : b);
    if (ro == 0 && rp == 0) {
        uint8_t both[256];
        const uint8_t *c = k->is_client ? own : peer, *sv = k->is_client ? peer : own;
        size_t cl = k->is_client ? own_len : peer_len, sl = k->is_client ? peer_len : own_len;
        if (cl + sl <= sizeof both) {
            memcpy(both, c, cl);
            memcpy(both + cl, sv, sl);
            share("Finished messages", both, cl + sl);
        }
    }
}

static void getters(sock *k, const char *key) {
    ntls_socket *s = k->s;
    const char *side = k->side;
    char list[512];
    snprintf(list, sizeof list, "%s", get(key, ""));
    char *save = NULL;
    for (char *g = strtok_r(list, " ", &save); g; g = strtok_r(NULL, " ", &save)) {
        if (strcmp(g, "authorized") == 0) {
            T(side, "authorized %s", B(ntls_socket_authorized(s)));
        } else if (strcmp(g, "authorizationError") == 0) {
            const char *e = ntls_socket_authorization_error(s);
            T(side, "authorizationError %s", e ? e : "null");
        } else if (strcmp(g, "protocol") == 0) {
            const char *p = ntls_socket_get_protocol(s);
            T(side, "getProtocol %s", p ? p : "null");
        } else if (strcmp(g, "cipher") == 0) {
            const char *n = NULL, *st = NULL, *v = NULL;
            if (ntls_socket_get_cipher(s, &n, &st, &v) == 0)
                T(side, "getCipher %s %s %s", n ? n : "undefined", st ? st : "undefined", v ? v : "undefined");
            else
                /* No cipher: Node's undefined before the handshake, null once closed. */
                T(side, "getCipher %s", k->closed ? "null" : "undefined");
        } else if (strcmp(g, "alpn") == 0) {
            /* NULL is Node's false once a cipher is agreed, its null before (the header). */
            const char *a = ntls_socket_alpn_protocol(s);
            const char *n = NULL, *st = NULL, *v = NULL;
            int secure = ntls_socket_get_cipher(s, &n, &st, &v) == 0;
            T(side, "alpnProtocol %s", a ? a : secure ? "false" : "null");
        } else if (strcmp(g, "servername") == 0) {
            const char *n = ntls_socket_servername(s);
            T(side, "servername %s", n ? n : "false");
        } else if (strcmp(g, "reused") == 0) {
            T(side, "isSessionReused %s", B(ntls_socket_is_session_reused(s)));
        } else if (strcmp(g, "encrypted") == 0) {
            T(side, "encrypted %s", B(ntls_socket_encrypted(s)));
        } else if (strcmp(g, "sigalgs") == 0) {
            const char *names[32];
            int n = ntls_socket_get_shared_sigalgs(s, names, 32);
            char line[1024] = "";
            for (int k = 0; k < n && k < 32; k++)
                snprintf(line + strlen(line), sizeof line - strlen(line), "%s%s", k ? "," : "", names[k]);
            T(side, "getSharedSigalgs [%s]", n < 0 ? "error" : line);
        } else if (strcmp(g, "ephemeral") == 0) {
            const char *n = NULL;
            int size = 0;
            int rc = ntls_socket_get_ephemeral_key_info(s, &n, &size);
            if (rc == 0 && n)
                T(side, "getEphemeralKeyInfo %s %d", n, size);
            else if (rc == 0)
                T(side, "getEphemeralKeyInfo none");
            else
                T(side, "getEphemeralKeyInfo null");
        } else if (strcmp(g, "peerCN") == 0 || strcmp(g, "peerCert") == 0 || strcmp(g, "peerChain") == 0 ||
                   strcmp(g, "peerCertDetailed") == 0) {
            int detailed = strcmp(g, "peerChain") == 0 || strcmp(g, "peerCertDetailed") == 0;
            ntls_cert *c = NULL;
            int rc = ntls_socket_get_peer_certificate(s, detailed, &c);
            const char *none = rc == NTLS_ENOENT ? "none" : "null";
            if (rc != 0) {
                if (strcmp(g, "peerCN") == 0) T(side, "peer %s", none);
                if (strcmp(g, "peerCert") == 0) T(side, "peerCertificate %s", none);
                if (strcmp(g, "peerChain") == 0) T(side, "peerChain none");
                if (strcmp(g, "peerCertDetailed") == 0) T(side, "peerCertificateDetailed none");
                continue;
            }
            const char *json = ntls_cert_to_json(c);
            if (strcmp(g, "peerCert") == 0) {
                T(side, "peerCertificate.json %s", json);
            } else if (strcmp(g, "peerCertDetailed") == 0) {
                T(side, "peerCertificateDetailed.json %s", json);
            } else {
                const char *p = json;
                jv *root = json_val(&p);
                char cn[512];
                if (strcmp(g, "peerCN") == 0) {
                    cn_of(root, cn, sizeof cn);
                    T(side, "peer CN=%s", cn);
                } else {
                    char out[4096] = "";
                    const jv *cur = root;
                    for (int i = 0; cur && i < 6; i++) {
                        cn_of(cur, cn, sizeof cn);
                        if (i) strcat(out, " < ");
                        strncat(out, cn, sizeof out - strlen(out) - 8);
                        const jv *up = json_get(cur, "issuerCertificate");
                        const jv *f1 = json_get(cur, "fingerprint256"), *f2 = json_get(up, "fingerprint256");
                        if (up && f1 && f2 && f1->str && f2->str && strcmp(f1->str, f2->str) == 0) {
                            strcat(out, " < (self)");
                            break;
                        }
                        cur = up;
                    }
                    T(side, "peerChain %s", out);
                }
                json_free(root);
            }
            ntls_cert_unref(c);
        } else if (strcmp(g, "remote") == 0 || strcmp(g, "local") == 0) {
            char host[128] = "", pb[16];
            int port = 0, family = 0;
            int remote = g[0] == 'r';
            int rc = remote ? ntls_socket_remote_address(s, host, sizeof host, &port, &family)
                            : ntls_socket_local_address(s, host, sizeof host, &port, &family);
            const char *pn = port_name(rc, port, k, pb);
            if (remote)
                T(side, "remoteAddress %s %s port=%s", rc ? "undefined" : host,
                  rc ? "undefined" : family == 6 ? "IPv6" : "IPv4", pn);
            else
                T(side, "localAddress %s port=%s", rc ? "undefined" : host, pn);
        } else if (strcmp(g, "bytes") == 0) {
            T(side, "bytesRead>0 %s bytesWritten>0 %s", B(ntls_socket_bytes_read(s) > 0),
              B(ntls_socket_bytes_written(s) > 0));
        } else if (strcmp(g, "bytesExact") == 0) {
            T(side, "bytesRead %llu bytesWritten %llu", (unsigned long long)ntls_socket_bytes_read(s),
              (unsigned long long)ntls_socket_bytes_written(s));
        } else if (strcmp(g, "ekm") == 0) {
            ekm_trace(side, s);
        } else if (strcmp(g, "finished") == 0) {
            finished_trace(k);
        } else if (strcmp(g, "keepalive") == 0) {
            char host[128], state[64];
            int lport = 0, rport = 0, family = 0;
            ntls_socket_local_address(s, host, sizeof host, &lport, &family);
            ntls_socket_remote_address(s, host, sizeof host, &rport, &family);
            keepalive_timer(lport, rport, state, sizeof state);
            T(side, "keepalive %s", state);
        } else if (strcmp(g, "session") == 0) {
            ntls_session *sess = NULL;
            int rc = ntls_socket_get_session(s, &sess);
            T(side, "getSession %s", rc == 0 ? "present" : "none");
            if (rc == 0) ntls_session_unref(sess);
        } else if (strcmp(g, "keylog") == 0) {
            keylog_trace(side, s);
        } else if (strcmp(g, "bufferSize") == 0) {
            int64_t n = ntls_socket_buffer_size(s);
            if (n >= 0)
                T(side, "bufferSize %lld", (long long)n);
            else
                T(side, "bufferSize undefined");
        } else if (strcmp(g, "renegotiate") == 0) {
            int rc = ntls_socket_renegotiate(s);
            T(side, "renegotiate returned %s", B(rc == 0));
            if (rc != 0) T(side, "renegotiate callback %s", ntls_err_name(rc));
        } else {
            fprintf(stderr, "unknown getter %s\n", g);
            exit(64);
        }
    }
}

static void on_secure_cb(ntls_socket *s, void *data) {
    sock *k = data;
    (void)s;
    if (k->on_secure) k->on_secure(k);
}
static void on_data_cb(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    sock *k = data;
    (void)s;
    size_t room = sizeof k->head - (k->n < sizeof k->head ? k->n : sizeof k->head);
    if (k->n < sizeof k->head) memcpy(k->head + k->n, buf, len < room ? len : room);
    k->n += len;
    k->total += len;
    if (len > k->largest) k->largest = len;
    if (k->on_data) k->on_data(k);
}
static void echo_data_cb(ntls_socket *s, const uint8_t *buf, size_t len, void *data) {
    on_data_cb(s, buf, len, data);
    ntls_socket_write(s, buf, len, NULL, NULL);
}
static void on_end_cb(ntls_socket *s, void *data) {
    sock *k = data;
    (void)s;
    flush_data(k);
    if (!k->quiet_end) T(k->side, "end");
    if (k->on_end) k->on_end(k);
}
static void on_error_cb(ntls_socket *s, const ntls_error *e, void *data) {
    sock *k = data;
    (void)s;
    char line[1024];
    err_line(e, line, sizeof line);
    T(k->side, "error %s", line);
}
static void on_close_cb(ntls_socket *s, int had_error, void *data) {
    sock *k = data;
    (void)s;
    flush_data(k);
    T(k->side, "close had_error=%s", B(had_error));
    k->closed = 1;
    if (k->close_trace) getters(k, k->close_trace);
    if (k->on_close) k->on_close(k);
    if (k->srv) ntls_server_close(k->srv, NULL);
    ntls_socket_unref(k->s);
    release();
}
static void on_timeout_cb(ntls_socket *s, void *data) {
    sock *k = data;
    (void)s;
    T(k->side, "timeout");
    if (k->on_timeout) k->on_timeout(k);
}
/* Traces the usual events of a socket (Node driver's watch()); the caller holds its reference. */
static void watch(sock *k, ntls_socket *s, int echo) {
    k->s = s;
    char key[64];
    snprintf(key, sizeof key, "trace.%s.close", k->side);
    k->close_trace = has(key) ? xstrdup(key) : NULL;
    ntls_socket_set_data(s, k);
    ntls_socket_on_secure_connect(s, on_secure_cb);
    ntls_socket_on_data(s, echo ? echo_data_cb : on_data_cb);
    ntls_socket_on_end(s, on_end_cb);
    ntls_socket_on_error(s, on_error_cb);
    ntls_socket_on_close(s, on_close_cb);
    ntls_socket_on_timeout(s, on_timeout_cb);
    hold();
}

/* ---- servers ----------------------------------------------------------------------------------- */
typedef struct server server;
typedef void (*server_fn)(server *sv, ntls_socket *s);
struct server {
    ntls_server *srv;
    int port;
    server_fn on_secure;
    void (*on_listening)(server *sv);
    int trace_close; /* the listener's close event, traced as "server close" */
    int connections; /* secureConnection events so far */
    void *user;
};
static server *the_server;
static void (*client_error_hook)(void); /* called after each tlsClientError */

typedef struct {
    ntls_request *req;
    char answer[64];
} sni_job;
static void sni_answer(void *p) {
    sni_job *j = p;
    if (strcmp(j->answer, "fail") == 0)
        ntls_request_fail(j->req, "SNI lookup failed");
    else if (strcmp(j->answer, "default") == 0)
        ntls_request_sni_done(j->req, NULL);
    else if (strncmp(j->answer, "ctx:", 4) == 0)
        ntls_request_sni_done(j->req, context(j->answer + 4));
    free(j);
}
static void sni_cb(ntls_server *srv, const char *servername, ntls_request *req, void *data) {
    (void)srv;
    (void)data;
    T("server", "SNICallback %s", servername ? servername : "undefined");
    char key[300];
    snprintf(key, sizeof key, "sni.%s", servername ? servername : "");
    const char *a = get(key, get("sni.*", "default"));
    sni_job *j = xmalloc(sizeof *j);
    j->req = req;
    snprintf(j->answer, sizeof j->answer, "%s", a);
    later(20, sni_answer, j);
}
static void client_error_cb(ntls_server *srv, const ntls_error *e, ntls_socket *s, void *data) {
    (void)srv;
    (void)data;
    char line[1024];
    err_line(e, line, sizeof line);
    T("server", "tlsClientError %s", line);
    ntls_socket_destroy(s);
    if (client_error_hook) client_error_hook();
}
static void secure_connection_cb(ntls_server *srv, ntls_socket *s, void *data) {
    (void)srv;
    server *sv = data;
    sv->connections++;
    if (sv->on_secure) sv->on_secure(sv, s);
}
static void server_close_cb(ntls_server *srv, void *data) {
    server *sv = data;
    (void)srv;
    if (sv->trace_close) T("listener", "close");
    release();
}
static void listening_cb(ntls_server *srv, int status, void *data) {
    server *sv = data;
    if (status != 0) {
        T("server", "listen error %s", ntls_err_name(status));
        release();
        return;
    }
    char host[64];
    int family;
    if (!on_path()) ntls_server_address(srv, host, sizeof host, &sv->port, &family);
    if (sv->on_listening) sv->on_listening(sv);
}
/* ocsp = TEXT | none: OCSPRequest answers TEXT (or nothing) 50 ms later. */
static void ocsp_answer(void *req) {
    const char *a = get("ocsp", "none");
    if (strcmp(a, "none") == 0)
        ntls_request_ocsp_done(req, NULL, 0);
    else
        ntls_request_ocsp_done(req, (const uint8_t *)a, strlen(a));
}
static void ocsp_request_cb(ntls_server *srv, const uint8_t *cert, size_t cert_len, const uint8_t *issuer,
                            size_t issuer_len, ntls_request *req, void *data) {
    (void)srv;
    (void)cert_len;
    (void)issuer_len;
    (void)data;
    T("server", "OCSPRequest cert %s issuer %s", B(cert != NULL), B(issuer != NULL));
    later(50, ocsp_answer, req);
}
static void ocsp_response_cb(ntls_socket *s, const uint8_t *der, size_t len, void *data) {
    char pv[256] = "null";
    if (der) preview(der, len, pv);
    T(((sock *)data)->side, "OCSPResponse %s", pv);
    if (der && has("ocsp.destroy")) ntls_socket_destroy(s);
}
/* tls.createServer with the scenario's options ("server." plus extra), contexts and SNICallback;
 * NULL (and the trace line Node's driver prints) if that fails. */
static server *make_server(const char *extra_bool_key, int extra_bool) {
    int ok;
    ntls_options *o = options("server.", "server", &ok);
    if (extra_bool_key) ntls_options_set_bool(o, ntls_option_by_name(extra_bool_key), extra_bool);
    ntls_server *srv = NULL;
    int rc = ok ? ntls_server_new(NULL, o, &srv) : NTLS_EINVAL;
    if (rc != 0) {
        T("server", "createServer error%s", rc == NTLS_ECIPHER ? " ERR_SSL_NO_CIPHER_MATCH" : "");
        fprintf(stderr, "createServer: %s\n", ntls_options_last_error(o));
        ntls_options_unref(o);
        return NULL;
    }
    ntls_options_unref(o);
    server *sv = xmalloc(sizeof *sv);
    sv->srv = srv;
    the_server = sv;
    ntls_server_set_data(srv, sv);
    ntls_server_on_secure_connection(srv, secure_connection_cb);
    if (!has("quiet.server")) ntls_server_on_tls_client_error(srv, client_error_cb);
    ntls_server_on_close(srv, server_close_cb);
    int any_sni = 0;
    for (int i = 0; i < nkeys; i++)
        if (strncmp(keys[i], "sni.", 4) == 0) any_sni = 1;
    if (any_sni) ntls_server_on_sni(srv, sni_cb);
    if (has("keylog")) ntls_server_on_keylog(srv, server_keylog_cb);
    if (has("ocsp")) ntls_server_on_ocsp_request(srv, ocsp_request_cb);
    /* addContext.N in the order of N */
    for (int n = 0; n < 10; n++) {
        char key[32];
        snprintf(key, sizeof key, "addContext.%d", n);
        const char *v = get(key, NULL);
        if (!v) continue;
        char pattern[256], ctxv[64];
        if (sscanf(v, "%255s %63s", pattern, ctxv) != 2) die("bad addContext");
        ntls_context *c = strncmp(ctxv, "ctx:", 4) == 0 ? context(ctxv + 4) : NULL;
        if (!c || ntls_server_add_context(srv, pattern, c) != 0) T("server", "addContext error %s", pattern);
    }
    return sv;
}
static void listen_server(server *sv, void (*cb)(server *)) {
    sv->on_listening = cb;
    hold();
    int rc = on_path() ? ntls_server_listen_path(sv->srv, sock_path, listening_cb)
                       : ntls_server_listen(sv->srv, "127.0.0.1", 0, listening_cb);
    if (rc != 0) {
        T("server", "listen error %s", ntls_server_last_error(sv->srv));
        release();
    }
}

/* The usual start of a flow: tls.createServer with the scenario's options, its
 * secureConnection handler, listen, then `on_listening`. */
static void run_server(server_fn on_secure, void (*on_listening)(server *)) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = on_secure;
    listen_server(sv, on_listening);
}
/* A server-side socket traced as "server" (the Node driver's watch()). */
static void watch_server_side(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    watch(k, s, 0);
}
static int closed_port;
/* checkServerIdentity = accept | reject: traces its call, then accepts the server or refuses
 * it with an error of its own (see the Node driver). */
static ntls_error *identity_cb(const char *hostname, const ntls_cert *cert, void *data) {
    const char *p = ntls_cert_to_json(cert);
    jv *root = p ? json_val(&p) : NULL;
    char cn[512];
    if (root && json_get(root, "subject"))
        cn_of(root, cn, sizeof cn);
    else
        snprintf(cn, sizeof cn, "no subject");
    json_free(root);
    T("client", "checkServerIdentity %s %s", hostname ? hostname : "undefined", cn);
    return strcmp(data, "accept") == 0 ? NULL : ntls_error_new("ECUSTOM", "refused by the callback");
}
static void session_cb(ntls_socket *s, ntls_session *session, void *data) {
    (void)s;
    (void)session;
    T(((sock *)data)->side, "session");
}
/* tls.connect with the scenario's client options and this port, offering `session` (NULL:
 * none). NULL: connect failed (traced). */
static ntls_socket *connect_client_with(sock *k, int port, const char *prefix, int echo, ntls_session *session) {
    int ok;
    ntls_options *o = options(prefix, k->side, &ok);
    if (session) ntls_options_set_session(o, session);
    const char *pv = get("client.port", NULL);
    if (pv && strcmp(pv, "closed") == 0)
        ntls_options_set_int(o, NTLS_OPT_PORT, closed_port);
    else if (!pv && !on_path())
        ntls_options_set_int(o, NTLS_OPT_PORT, port);
    if (on_path()) ntls_options_set_string(o, NTLS_OPT_PATH, sock_path);
    if (strcmp(get("client.localPort", ""), "free") == 0) ntls_options_set_int(o, NTLS_OPT_LOCAL_PORT, free_port);
    const char *identity = get("client.checkServerIdentity", NULL);
    if (identity) ntls_options_set_check_server_identity(o, identity_cb, (void *)identity);
    ntls_socket *s;
    if (ntls_socket_new(NULL, &s) != 0) die("socket_new");
    watch(k, s, echo);
    if (has("keylog")) ntls_socket_on_keylog(s, socket_keylog_cb);
    if (has("session.event")) ntls_socket_on_session(s, session_cb);
    if (has("ocsp")) ntls_socket_on_ocsp_response(s, ocsp_response_cb);
    int rc = ok ? ntls_socket_connect(s, o) : NTLS_EINVAL;
    if (rc != 0) {
        T(k->side, "connect error%s", rc == NTLS_ECIPHER ? " ERR_SSL_NO_CIPHER_MATCH" : "");
        fprintf(stderr, "connect: %s\n", ntls_options_last_error(o));
        ntls_options_unref(o);
        ntls_socket_unref(s);
        release(); /* no close event follows a failed connect */
        return NULL;
    }
    ntls_options_unref(o);
    return s;
}
static ntls_socket *connect_client(sock *k, int port, const char *prefix, int echo) {
    return connect_client_with(k, port, prefix, echo, NULL);
}

/* A client of the server, traced as "client", that closes the server when it closes. */
static sock *start_client(server *sv, sock_fn on_secure) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = on_secure;
    k->srv = sv->srv;
    connect_client(k, sv->port, "client.", 0);
    return k;
}

/* ---- flows --------------------------------------------------------------------------------------- */
static const char *send_text;
static size_t expect_bytes;

/* basic: see the Node driver */
static void basic_client_go(void *arg) {
    sock *k = arg;
    getters(k, "trace.client");
    if (*send_text) ntls_socket_write(k->s, send_text, strlen(send_text), NULL, NULL);
    if (expect_bytes == 0) {
        k->ended = 1;
        ntls_socket_end(k->s);
    }
}
static void basic_client_secure(sock *k) {
    T(k->side, "secureConnect");
    if (!has("setKeepAlive")) {
        basic_client_go(k);
        return;
    }
    /* applied on the loop's next turn: both drivers look 20 ms later */
    ntls_socket_set_keep_alive(k->s, 1, (uint64_t)num("setKeepAlive", 0));
    later(20, basic_client_go, k);
}
static void basic_client_data(sock *k) {
    if (!k->ended && k->total >= expect_bytes) {
        k->ended = 1;
        ntls_socket_end(k->s);
    }
}
static void basic_client_close(sock *k) {
    long fragment = num("maxSendFragment", 0);
    T(k->side, "every data chunk at most %ld bytes %s", fragment, B(k->largest <= (size_t)fragment));
}
static void basic_start_client(server *sv) {
    sock *k = new_sock("client", sv ? sv->port : 0, 1);
    k->on_secure = basic_client_secure;
    k->on_data = basic_client_data;
    if (has("maxSendFragment")) k->on_close = basic_client_close;
    ntls_socket *s = connect_client(k, sv ? sv->port : 0, "client.", 0);
    if (!s) {
        if (sv) ntls_server_close(sv->srv, NULL);
        return;
    }
    getters(k, "trace.client.connect");
    if (sv) k->srv = sv->srv;
}
static char *greeting_text(void) {
    if (!has("greeting.size")) return xstrdup(get("greeting", ""));
    size_t n = (size_t)num("greeting.size", 0);
    char *g = xmalloc(n + 1);
    memset(g, 'g', n);
    return g;
}
static void basic_server_secure(server *sv, ntls_socket *s) {
    int echo = strcmp(get("echo", "true"), "true") == 0;
    char *greeting = greeting_text();
    if (!has("quiet.server")) {
        T("server", "secureConnection");
        sock *k = new_sock("server", sv->port, 0);
        k->s = s;
        getters(k, "trace.server");
        ntls_socket_ref(s);
        watch(k, s, echo);
    } else {
        sock *k = new_sock("quiet", sv->port, 0);
        k->s = s;
        ntls_socket_set_data(s, k);
        ntls_socket_on_data(s, echo ? echo_data_cb : on_data_cb);
    }
    long fragment = num("maxSendFragment", 0);
    if (fragment) {
        const long sizes[3] = {511, 16385, fragment};
        for (int i = 0; i < 3; i++)
            T("server", "setMaxSendFragment(%ld) %s", sizes[i], B(ntls_socket_set_max_send_fragment(s, (size_t)sizes[i]) == 1));
    }
    if (*greeting) ntls_socket_write(s, greeting, strlen(greeting), NULL, NULL);
    free(greeting);
}
static void flow_basic(void) {
    send_text = get("send", "hello");
    char *greeting = greeting_text();
    int echo = strcmp(get("echo", "true"), "true") == 0;
    expect_bytes = (size_t)num("expect", (long)((echo ? strlen(send_text) : 0) + strlen(greeting)));
    free(greeting);
    if (strcmp(get("server", ""), "none") == 0) {
        basic_start_client(NULL);
        return;
    }
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = basic_server_secure;
    listen_server(sv, basic_start_client);
}

/* create */
static void create_listening(server *sv) {
    T("server", "listening");
    ntls_server_close(sv->srv, NULL);
}
static void flow_create(void) {
    server *sv = make_server(NULL, 0);
    if (sv) listen_server(sv, create_listening);
}

/* raw_client: a plain TCP client in a thread of its own; the listener closes once the client
 * is gone and the server has said what it saw (tlsClientError or secureConnection). */
static atomic_int raw_steps;
static void raw_step(void) {
    if (atomic_fetch_add(&raw_steps, 1) == 1) ntls_server_close(the_server->srv, NULL);
}
static void raw_step_task(void *arg) {
    (void)arg;
    raw_step();
}
static int tcp_connect(int port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}
static void write_all(int fd, const void *b, size_t n) {
    const char *p = b;
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0) return;
        p += w;
        n -= (size_t)w;
    }
}
static void close_server_task(void *arg) {
    server *sv = arg;
    ntls_server_close(sv->srv, NULL);
}
/* Reads until EOF or an error and traces it as Node's net socket would: end, or error. */
static void raw_read_to_end(int fd, const char *side) {
    char buf[65536];
    for (;;) {
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r > 0) continue;
        if (r == 0)
            T(side, "end"); /* whether an alert came first is not traced: see the Node driver */
        else if (errno == EINTR)
            continue;
        else
            T(side, "error %s", errno == ECONNRESET ? "ECONNRESET" : strerror(errno));
        break;
    }
}
static void *raw_client_thread(void *arg) {
    server *sv = arg;
    const char *mode = get("raw", "close");
    int fd = tcp_connect(sv->port);
    if (fd < 0) {
        T("raw", "error %s", strerror(errno));
    } else if (strcmp(mode, "close") == 0) {
        close(fd);
    } else {
        if (strncmp(mode, "garbage:", 8) == 0) {
            size_t n = (size_t)atol(mode + 8);
            char *b = xmalloc(n);
            memset(b, 42, n);
            write_all(fd, b, n);
            free(b);
        } else if (strncmp(mode, "text:", 5) == 0) {
            char t[1024], *o = t;
            for (const char *p = mode + 5; *p && o < t + sizeof t - 1; p++) {
                if (p[0] == '\\' && p[1] == 'n') {
                    *o++ = '\n';
                    p++;
                } else {
                    *o++ = *p;
                }
            }
            write_all(fd, t, (size_t)(o - t));
        }
        raw_read_to_end(fd, "raw");
        close(fd);
    }
    T("raw", "close");
    later(0, raw_step_task, sv);
    release();
    return NULL;
}
static void raw_client_listening(server *sv) {
    hold();
    in_thread(raw_client_thread, sv);
}
static void raw_secure(server *sv, ntls_socket *s) {
    (void)sv;
    (void)s;
    T("server", "secureConnection");
    raw_step();
}
static void flow_raw_client(void) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    client_error_hook = raw_step;
    sv->on_secure = raw_secure;
    listen_server(sv, raw_client_listening);
}

/* raw_server: a plain TCP server for a TLS client */
static int tcp_listen(int *port) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) die("tcp listen");
    socklen_t l = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &l);
    *port = ntohs(a.sin_port);
    return fd;
}
typedef struct {
    int lfd, port;
} raw_srv;
static void *raw_server_thread(void *arg) {
    raw_srv *r = arg;
    const char *mode = get("raw", "close");
    int c = accept4(r->lfd, NULL, NULL, SOCK_CLOEXEC);
    close(r->lfd);
    if (c >= 0) {
        if (strncmp(mode, "reply:", 6) == 0) {
            char buf[4096];
            (void)recv(c, buf, sizeof buf, 0);
            char t[1024], *o = t;
            for (const char *p = mode + 6; *p && o < t + sizeof t - 2; p++) {
                if (p[0] == '\\' && p[1] == 'r') {
                    *o++ = '\r';
                    p++;
                } else if (p[0] == '\\' && p[1] == 'n') {
                    *o++ = '\n';
                    p++;
                } else {
                    *o++ = *p;
                }
            }
            write_all(c, t, (size_t)(o - t));
        }
        shutdown(c, SHUT_WR);
        char buf[4096];
        while (recv(c, buf, sizeof buf, 0) > 0) {
        }
        close(c);
    }
    if (on_path()) unlink(sock_path);
    free(r);
    release();
    return NULL;
}
static void raw_server_secure(sock *k) { T(k->side, "secureConnect"); }
static void raw_server_connect(void *arg) {
    raw_srv *r = arg;
    sock *k = new_sock("client", r->port, 1);
    k->on_secure = raw_server_secure;
    connect_client(k, r->port, "client.", 0);
}
static int unix_listen(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {0};
    a.sun_family = AF_UNIX;
    snprintf(a.sun_path, sizeof a.sun_path, "%s", path);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) die("unix listen");
    return fd;
}
static void flow_raw_server(void) {
    raw_srv *r = xmalloc(sizeof *r);
    if (on_path())
        r->lfd = unix_listen(sock_path);
    else
        r->lfd = tcp_listen(&r->port);
    raw_srv *r2 = xmalloc(sizeof *r2);
    *r2 = *r;
    hold();
    in_thread(raw_server_thread, r);
    later(0, raw_server_connect, r2);
}

/* pause_write */
typedef struct {
    size_t size, sent, received;
    int resumed;
    uint8_t *chunk;
} pw_state;
static pw_state pw;
static void pw_send(void *arg);
static void pw_send(void *arg) {
    sock *k = arg;
    int more = ntls_socket_write(k->s, pw.chunk, pw.size, NULL, NULL);
    pw.sent += pw.size;
    if (more == 1 && pw.sent < 64 * pw.size) {
        later(0, pw_send, k);
        return;
    }
    T(k->side, "write returned %s", more == 1 ? "true" : more == 0 ? "false" : ntls_err_name(more));
    pw.resumed = 1;
    ntls_socket_resume(k->s);
    T(k->side, "resumed");
}
static void pw_secure(sock *k) {
    ntls_socket_pause(k->s);
    T(k->side, "paused");
    pw_send(k);
}
static void pw_data(sock *k) {
    if (!pw.resumed) T(k->side, "data while paused");
    if (k->total == pw.sent) {
        T(k->side, "received all");
        ntls_socket_end(k->s);
    }
    k->n = 0; /* the Node flow does not print the data */
}
static void srv_plain_end(ntls_socket *s, void *data) {
    (void)s;
    T(((sock *)data)->side, "end");
}
static void srv_plain_close(ntls_socket *s, int had, void *data) {
    sock *k = data;
    (void)s;
    T(k->side, "close had_error=%s", B(had));
    if (k->on_close) k->on_close(k);
    ntls_socket_unref(s);
    release();
}
static void srv_echo_only(ntls_socket *s, const uint8_t *b, size_t n, void *data) {
    (void)data;
    ntls_socket_write(s, b, n, NULL, NULL);
}
static void pw_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, srv_echo_only);
    ntls_socket_on_end(s, srv_plain_end);
    ntls_socket_on_close(s, srv_plain_close);
    hold();
}
static void pw_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = pw_secure;
    k->on_data = pw_data;
    k->srv = sv->srv;
    connect_client(k, sv->port, "client.", 0);
}
static void flow_pause_write(void) {
    pw.size = (size_t)num("size", 1 << 20);
    pw.chunk = xmalloc(pw.size);
    memset(pw.chunk, 'x', pw.size);
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = pw_server_secure;
    listen_server(sv, pw_listening);
}

/* throttle */
static void th_resume(void *arg) { ntls_socket_resume(((sock *)arg)->s); }
static void th_data(sock *k) {
    k->n = 0;
    ntls_socket_pause(k->s);
    later(0, th_resume, k);
}
static void th_end_cb(ntls_socket *s, void *data) {
    sock *k = data;
    (void)s;
    T(k->side, "end received=%zu", k->total);
}
static void th_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    size_t size = (size_t)num("size", 1 << 20);
    uint8_t *b = xmalloc(size);
    memset(b, 'y', size);
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    ntls_socket_set_data(s, k);
    ntls_socket_on_close(s, srv_plain_close);
    hold();
    ntls_socket_resume(s);
    ntls_socket_write(s, b, size, NULL, NULL);
    ntls_socket_end(s);
    free(b);
}
static void th_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_data = th_data;
    k->srv = sv->srv;
    ntls_socket *s = connect_client(k, sv->port, "client.", 0);
    if (s) ntls_socket_on_end(s, th_end_cb);
}
static void flow_throttle(void) { run_server(th_server_secure, th_listening); }

/* backpressure */
static size_t bp_size, bp_sent;
static int bp_saw_false, bp_drains;
static uint8_t bp_chunk[1024];
static void bp_write(sock *k) {
    while (bp_sent < bp_size) {
        bp_sent += sizeof bp_chunk;
        int r = ntls_socket_write(k->s, bp_chunk, sizeof bp_chunk, NULL, NULL);
        if (r != 1) {
            if (!bp_saw_false) T(k->side, "write returned %s", r == 0 ? "false" : ntls_err_name(r));
            bp_saw_false = 1;
            return;
        }
    }
    T(k->side, "drained at least once %s", B(bp_drains > 0));
    ntls_socket_end(k->s);
}
static void bp_drain_cb(ntls_socket *s, void *data) {
    (void)s;
    bp_drains++;
    bp_write(data);
}
static void bp_srv_data(ntls_socket *s, const uint8_t *b, size_t n, void *data) {
    (void)s;
    (void)b;
    ((sock *)data)->total += n;
}
static void bp_srv_end(ntls_socket *s, void *data) {
    (void)s;
    sock *k = data;
    T(k->side, "end received=%zu", k->total);
}
static void bp_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, bp_srv_data);
    ntls_socket_on_end(s, bp_srv_end);
    ntls_socket_on_close(s, srv_plain_close);
    hold();
}
static void bp_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = bp_write;
    k->srv = sv->srv;
    ntls_socket *s = connect_client(k, sv->port, "client.", 0);
    if (s) ntls_socket_on_drain(s, bp_drain_cb);
}
static void flow_backpressure(void) {
    bp_size = (size_t)num("size", 1 << 20);
    memset(bp_chunk, 'z', sizeof bp_chunk);
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = bp_server_secure;
    listen_server(sv, bp_listening);
}

/* half_open_client */
static void hoc_bye(void *arg) {
    sock *k = arg;
    int r = ntls_socket_write(k->s, "Bye", 3, NULL, NULL);
    T(k->side, "write after end returned %s", r == 1 ? "true" : r == 0 ? "false" : ntls_err_name(r));
    ntls_socket_end(k->s);
}
static void hoc_end(sock *k) { later(50, hoc_bye, k); }
static void hoc_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    watch(k, s, 0);
    ntls_socket_write(s, "Hello", 5, NULL, NULL);
    ntls_socket_end(s);
}
static void hoc_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_end = hoc_end;
    k->srv = sv->srv;
    int ok;
    ntls_options *o = options("client.", "client", &ok);
    ntls_options_set_bool(o, NTLS_OPT_ALLOW_HALF_OPEN, 1);
    ntls_options_set_int(o, NTLS_OPT_PORT, sv->port);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    watch(k, s, 0);
    if (ntls_socket_connect(s, o) != 0) {
        T("client", "connect error");
        release();
    }
    ntls_options_unref(o);
}
static void flow_half_open_client(void) { run_server(hoc_server_secure, hoc_listening); }

/* half_open_server */
static void hos_late(void *arg) {
    sock *k = arg;
    int r = ntls_socket_write(k->s, "late", 4, NULL, NULL);
    T(k->side, "write after end returned %s", r == 1 ? "true" : r == 0 ? "false" : ntls_err_name(r));
    ntls_socket_end(k->s);
}
static void hos_end(sock *k) { later(50, hos_late, k); }
static void hos_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    k->on_end = hos_end;
    ntls_socket_ref(s);
    watch(k, s, 0);
}
static void hos_client_secure(sock *k) { ntls_socket_end(k->s); }
static void hos_listening(server *sv) { start_client(sv, hos_client_secure); }
static void flow_half_open_server(void) {
    server *sv = make_server("allowHalfOpen", 1);
    if (!sv) return;
    sv->on_secure = hos_server_secure;
    listen_server(sv, hos_listening);
}

/* write_after_end */
static void wae_cb(ntls_socket *s, int status, void *arg) {
    (void)s;
    T(((sock *)arg)->side, "write callback %s", status == 0 ? "ok" : ntls_err_name(status));
}
static void wae_client_secure(sock *k) {
    ntls_socket_end(k->s);
    int r = ntls_socket_write(k->s, "too late", 8, wae_cb, k);
    T(k->side, "write returned %s", r == 1 ? "true" : r == 0 ? "false" : ntls_err_name(r));
    ntls_socket_resume(k->s);
}
static void wae_listening(server *sv) { start_client(sv, wae_client_secure); }
static void flow_write_after_end(void) { run_server(watch_server_side, wae_listening); }

/* destroy_immediately */
static void di_close_server(void *arg) { ntls_server_close(((server *)arg)->srv, NULL); }
static void di_close(sock *k) { later(100, di_close_server, k->user); }
static void di_secure(sock *k) { T(k->side, "secureConnect"); }
static void di_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    (void)s;
    T("server", "secureConnection");
}
static void di_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = di_secure;
    k->on_close = di_close;
    k->user = sv;
    ntls_socket *s = connect_client(k, sv->port, "client.", 0);
    if (s) ntls_socket_destroy(s);
}
static void flow_destroy_immediately(void) { run_server(di_server_secure, di_listening); }

/* server_write_destroy */
static void swd_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    ntls_socket_set_data(s, k);
    ntls_socket_on_close(s, srv_plain_close);
    hold();
    ntls_socket_write(s, "Hello World", 11, NULL, NULL);
    ntls_socket_destroy(s);
}
static void swd_secure(sock *k) { T(k->side, "secureConnect"); }
static void swd_close_cb(ntls_socket *s, int had, void *data) {
    sock *k = data;
    T(k->side, "close had_error=%s", B(had));
    if (k->srv) ntls_server_close(k->srv, NULL);
    ntls_socket_unref(s);
    release();
}
static void swd_data(ntls_socket *s, const uint8_t *b, size_t n, void *data) {
    (void)s;
    (void)b;
    (void)n;
    (void)data;
}
static void swd_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = swd_secure;
    k->srv = sv->srv;
    ntls_socket *s = connect_client(k, sv->port, "client.", 0);
    if (s) {
        ntls_socket_on_close(s, swd_close_cb);
        ntls_socket_on_data(s, swd_data);
        ntls_socket_on_end(s, NULL);
    }
}
static void flow_server_write_destroy(void) { run_server(swd_server_secure, swd_listening); }

/* invoke_queued */
static void iq_cb3(ntls_socket *s, int st, void *arg) {
    (void)s;
    (void)st;
    (void)arg;
    T("server", "write 3 callback");
}
static void iq_cb2(ntls_socket *s, int st, void *arg) {
    (void)st;
    (void)arg;
    T("server", "write 2 callback");
    ntls_socket_destroy(s);
}
static void iq_cb1(ntls_socket *s, int st, void *arg) {
    (void)st;
    (void)arg;
    T("server", "write 1 callback");
    ntls_socket_write(s, "world!", 6, iq_cb2, NULL);
    ntls_socket_write(s, " gosh", 5, iq_cb3, NULL);
}
static void iq_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    ntls_socket_set_data(s, k);
    ntls_socket_on_close(s, srv_plain_close);
    hold();
    ntls_socket_write(s, "hello ", 6, iq_cb1, NULL);
}
static void iq_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->srv = sv->srv;
    connect_client(k, sv->port, "client.", 0);
}
static void flow_invoke_queued(void) { run_server(iq_server_secure, iq_listening); }

/* server_close_open */
static void sco_close_cb(ntls_server *srv, void *data) {
    (void)srv;
    (void)data;
    T("listener", "close callback");
}
static void sco_server_secure(server *sv, ntls_socket *s) {
    T("server", "secureConnection");
    ntls_server_close(sv->srv, sco_close_cb);
    T("server", "close called, connections %d", ntls_server_connections(sv->srv));
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    watch(k, s, 1);
}
static void sco_write(void *arg) {
    sock *k = arg;
    ntls_socket_write(k->s, "still here", 10, NULL, NULL);
}
static void sco_client_secure(sock *k) { later(50, sco_write, k); }
static void sco_client_data(sock *k) {
    if (k->total >= 10 && !k->ended) {
        k->ended = 1;
        ntls_socket_end(k->s);
    }
}
static void sco_client_close(sock *k) {
    sock *k2 = new_sock("client2", k->port, 1);
    connect_client(k2, k->port, "client.", 0);
}
static void sco_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = sco_client_secure;
    k->on_data = sco_client_data;
    k->on_close = sco_client_close;
    connect_client(k, sv->port, "client.", 0);
}
static void flow_server_close_open(void) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->trace_close = has("listener.event");
    sv->on_secure = sco_server_secure;
    listen_server(sv, sco_listening);
}

/* timeout */
static void to_timeout(sock *k) { ntls_socket_destroy(k->s); }
static void to_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    k->on_timeout = to_timeout;
    ntls_socket_ref(s);
    watch(k, s, 0);
    ntls_socket_set_timeout(s, (uint64_t)num("idle", 200));
}
static void to_client_secure(sock *k) { T(k->side, "secureConnect"); }
static void to_listening(server *sv) { start_client(sv, to_client_secure); }
static void flow_timeout(void) { run_server(to_server_secure, to_listening); }

/* wrap_server */
typedef struct {
    int lfd, port, fd;
} wrap_srv;
static void ws_server_secure(sock *k) {
    T(k->side, "secure");
    getters(k, "trace.server");
}
static void ws_wrap(void *arg) {
    wrap_srv *w = arg;
    sock *k = new_sock("server", 0, 0);
    k->on_secure = ws_server_secure;
    int ok;
    ntls_options *o = options("server.", "server", &ok);
    ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    watch(k, s, 1);
    int rc = ntls_socket_wrap_fd(s, w->fd, o);
    if (rc != 0) {
        T("server", "wrap error %s", ntls_err_name(rc));
        release();
    } else {
        getters(k, "trace.server.connect");
    }
    ntls_options_unref(o);
    free(w);
}
static void *ws_accept_thread(void *arg) {
    wrap_srv *w = arg;
    w->fd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
    close(w->lfd);
    later((int)num("delay", 100), ws_wrap, w);
    release();
    return NULL;
}
static void *ws_raw_thread(void *arg) {
    wrap_srv *w = arg;
    const char *raw = get("raw", "");
    int fd = tcp_connect(w->port);
    size_t n = (size_t)atol(raw + 8);
    char *b = xmalloc(n);
    memset(b, 42, n);
    write_all(fd, b, n);
    free(b);
    char buf[4096];
    while (recv(fd, buf, sizeof buf, 0) > 0) {
    }
    close(fd);
    T("raw", "close");
    free(w);
    release();
    return NULL;
}
static void ws_client_secure(sock *k) {
    T(k->side, "secureConnect");
    getters(k, "trace.client");
    const char *send = get("send", "hello");
    ntls_socket_write(k->s, send, strlen(send), NULL, NULL);
    ntls_socket_end(k->s);
}
static void ws_connect(void *arg) {
    wrap_srv *w = arg;
    sock *k = new_sock("client", w->port, 1);
    k->on_secure = ws_client_secure;
    connect_client(k, w->port, "client.", 0);
    free(w);
}
static void flow_wrap_server(void) {
    wrap_srv *w = xmalloc(sizeof *w);
    w->lfd = tcp_listen(&w->port);
    wrap_srv *c = xmalloc(sizeof *c);
    *c = *w;
    hold();
    in_thread(ws_accept_thread, w);
    if (*get("raw", "")) {
        hold();
        in_thread(ws_raw_thread, c);
    } else {
        later(0, ws_connect, c);
    }
}

/* wrap_client */
typedef struct {
    server *sv;
    int fd;
} wc_job;
static void wc_client_secure(sock *k) {
    T(k->side, "secureConnect");
    getters(k, "trace.client");
}
static void wc_wrap(void *arg) {
    wc_job *j = arg;
    sock *k = new_sock("client", j->sv->port, 1);
    k->on_secure = wc_client_secure;
    k->srv = j->sv->srv;
    int ok;
    ntls_options *o = options("client.", "client", &ok);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    watch(k, s, 0);
    int rc = ntls_socket_wrap_fd(s, j->fd, o);
    if (rc != 0) {
        T("client", "wrap error %s", ntls_err_name(rc));
        release();
    }
    ntls_options_unref(o);
    free(j);
}
static void *wc_connect_thread(void *arg) {
    wc_job *j = arg;
    j->fd = tcp_connect(j->sv->port);
    later(0, wc_wrap, j);
    release();
    return NULL;
}
static void wc_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    T("server", "secureConnection");
    sock *k = new_sock("quiet", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, swd_data);
    ntls_socket_write(s, "Hello", 5, NULL, NULL);
    ntls_socket_end(s);
}
static void wc_listening(server *sv) {
    wc_job *j = xmalloc(sizeof *j);
    j->sv = sv;
    hold();
    in_thread(wc_connect_thread, j);
}
static void flow_wrap_client(void) { run_server(wc_server_secure, wc_listening); }

/* bad_record: the client's TCP descriptor is duplicated before the wrap, and the bad record
 * goes out on the duplicate once the echo came back (the library is idle then). */
static int br_raw_fd = -1;
static void br_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    T("server", "secureConnection");
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    watch(k, s, 1);
}
static void br_client_secure(sock *k) {
    T(k->side, "secureConnect");
    ntls_socket_write(k->s, "x", 1, NULL, NULL);
}
static void br_client_data(sock *k) {
    if (br_raw_fd >= 0) {
        static const uint8_t bad[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
        write_all(br_raw_fd, bad, sizeof bad);
        shutdown(br_raw_fd, SHUT_WR);
        close(br_raw_fd);
        br_raw_fd = -1;
    }
    (void)k;
}
static void br_wrap(void *arg) {
    wc_job *j = arg;
    sock *k = new_sock("client", j->sv->port, 1);
    k->on_secure = br_client_secure;
    k->on_data = br_client_data;
    k->srv = j->sv->srv;
    int ok;
    ntls_options *o = options("client.", "client", &ok);
    ntls_socket *s;
    ntls_socket_new(NULL, &s);
    watch(k, s, 0);
    br_raw_fd = dup(j->fd);
    int rc = ntls_socket_wrap_fd(s, j->fd, o);
    if (rc != 0) {
        T("client", "wrap error %s", ntls_err_name(rc));
        release();
    }
    ntls_options_unref(o);
    free(j);
}
static void *br_connect_thread(void *arg) {
    wc_job *j = arg;
    j->fd = tcp_connect(j->sv->port);
    later(0, br_wrap, j);
    release();
    return NULL;
}
static void br_listening(server *sv) {
    wc_job *j = xmalloc(sizeof *j);
    j->sv = sv;
    hold();
    in_thread(br_connect_thread, j);
}
static void flow_bad_record(void) { run_server(br_server_secure, br_listening); }

/* two_clients */
static void tc_close_cb(ntls_server *srv, void *data) {
    (void)srv;
    (void)data;
    T("listener", "close callback");
}
static void tc_server_secure(server *sv, ntls_socket *s) {
    ntls_socket_resume(s);
    if (sv->connections == 2) {
        T("server", "second secureConnection");
        ntls_server_close(sv->srv, tc_close_cb);
    }
}
static void tc_secure(sock *k) {
    T(k->side, "secureConnect");
    ntls_socket_end(k->s);
}
static void tc_listening(server *sv) {
    const char *sides[] = {"client1", "client2"};
    for (int i = 0; i < 2; i++) {
        sock *k = new_sock(sides[i], sv->port, 1);
        k->on_secure = tc_secure;
        k->quiet_end = 1;
        connect_client(k, sv->port, "client.", 0);
    }
}
static void flow_two_clients(void) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->trace_close = has("listener.event");
    sv->on_secure = tc_server_secure;
    listen_server(sv, tc_listening);
}

/* early_end */
static void ee_end_later(void *arg) {
    sock *k = arg;
    ntls_socket_end(k->s);
    ntls_server_close(the_server->srv, NULL);
}
static void ee_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    T("server", "secureConnection");
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    watch(k, s, 0);
    later(20, ee_end_later, k);
}
static void ee_secure(sock *k) { T(k->side, "secureConnect"); }
static void ee_listening(server *sv) {
    sock *k = new_sock("client", sv->port, 1);
    k->on_secure = ee_secure;
    ntls_socket *s = connect_client(k, sv->port, "client.", 0);
    if (s) {
        ntls_socket_write(s, "", 0, NULL, NULL);
        ntls_socket_end(s);
    }
}
static void flow_early_end(void) { run_server(ee_server_secure, ee_listening); }

/* resume_openssl */
static int ro_count;
static void ro_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    ro_count++;
    const char *p = ntls_socket_get_protocol(s);
    T("server", "connection %d isSessionReused %s %s", ro_count, B(ntls_socket_is_session_reused(s)),
      p ? p : "null");
    sock *k = new_sock("quiet", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, swd_data);
    ntls_socket_write(s, "bye\n", 4, NULL, NULL);
    ntls_socket_end(s);
}
/* openssl s_client against the port: `pre`, the scenario's `openssl` words (@file: a file of
 * the certificate directory), then `flag` and `file` (either may be NULL); its stdout, to free. */
static char *openssl_client(int port, const char *pre, const char *flag, const char *file) {
    char connect[64], ca[1024], extra[256];
    snprintf(connect, sizeof connect, "127.0.0.1:%d", port);
    snprintf(ca, sizeof ca, "%s/ca-cert.pem", cert_dir);
    snprintf(extra, sizeof extra, "%s", get("openssl", ""));
    char *argv[24];
    int a = 0;
    const char *base[] = {"openssl", "s_client", "-connect", connect, "-servername", "localhost", "-CAfile", ca, pre};
    for (size_t b = 0; b < sizeof base / sizeof base[0]; b++) argv[a++] = (char *)base[b];
    char *save = NULL, files[4][1024];
    int nfiles = 0;
    for (char *w = strtok_r(extra, " ", &save); w && a < 20; w = strtok_r(NULL, " ", &save)) {
        if (w[0] == '@' && nfiles < 4) {
            snprintf(files[nfiles], sizeof files[nfiles], "%s/%s", cert_dir, w + 1);
            w = files[nfiles++];
        }
        argv[a++] = w;
    }
    if (flag) argv[a++] = (char *)flag;
    if (file) argv[a++] = (char *)file;
    argv[a] = NULL;
    int out[2];
    if (pipe(out) != 0) die("pipe");
    pid_t pid = fork();
    if (pid == 0) {
        int devnull = open("/dev/null", 0);
        dup2(devnull, 0);
        dup2(devnull, 2);
        dup2(out[1], 1);
        close(out[0]);
        execvp("openssl", argv);
        _exit(127);
    }
    close(out[1]);
    size_t cap = 65536, n = 0;
    char *buf = xmalloc(cap);
    ssize_t r;
    while ((r = read(out[0], buf + n, cap - 1 - n)) > 0) {
        n += (size_t)r;
        if (cap - 1 - n == 0) {
            cap *= 2;
            buf = realloc(buf, cap);
            if (!buf) die("out of memory");
        }
    }
    buf[n] = 0;
    close(out[0]);
    waitpid(pid, NULL, 0);
    return buf;
}
/* Lines of s_client's output that start with `prefix`. */
static int count_lines(const char *out, const char *prefix) {
    int n = 0;
    for (const char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL)
        if (strncmp(line, prefix, strlen(prefix)) == 0) n++;
    return n;
}
static void ro_run(int port, const char *flag, const char *sess, int i) {
    char *out = openssl_client(port, "-ign_eof", flag, sess);
    const char *kind = "no session line";
    for (char *line = out; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
        if (strncmp(line, "New, ", 5) == 0) {
            kind = "New";
            break;
        }
        if (strncmp(line, "Reused, ", 8) == 0) {
            kind = "Reused";
            break;
        }
    }
    T("openssl", "connection %d %s", i, kind);
    free(out);
}
static void *ro_thread(void *arg) {
    server *sv = arg;
    char sess[512];
    snprintf(sess, sizeof sess, "/tmp/conformance-c-%d.sess", (int)getpid());
    ro_run(sv->port, "-sess_out", sess, 1);
    ro_run(sv->port, "-sess_in", sess, 2);
    unlink(sess);
    later(0, close_server_task, sv);
    release();
    return NULL;
}
static void ro_listening(server *sv) {
    hold();
    in_thread(ro_thread, sv);
}
static void flow_resume_openssl(void) { run_server(ro_server_secure, ro_listening); }

/* session_store: see the Node driver. */
static struct {
    pthread_mutex_t mu;
    uint8_t id[64], *data;
    size_t id_len, data_len;
    int connections, new_session, resume_session, known;
} st = {PTHREAD_MUTEX_INITIALIZER, {0}, NULL, 0, 0, 0, 0, 0, 0};
typedef struct {
    ntls_request *req;
    uint8_t *data, *id;
    size_t len, id_len;
} store_job;
static void store_new_answer(void *p) {
    store_job *j = p;
    pthread_mutex_lock(&st.mu);
    free(st.data);
    st.data = j->data;
    st.data_len = j->len;
    memcpy(st.id, j->id, j->id_len);
    st.id_len = j->id_len;
    pthread_mutex_unlock(&st.mu);
    ntls_request_session_done(j->req, NULL, 0);
    free(j->id);
    free(j);
}
static void store_new_cb(ntls_server *srv, const uint8_t *id, size_t id_len, const uint8_t *session,
                         size_t session_len, ntls_request *req, void *data) {
    (void)srv;
    (void)data;
    st.new_session++;
    store_job *j = xmalloc(sizeof *j);
    j->req = req;
    j->data = xmalloc(session_len);
    memcpy(j->data, session, session_len);
    j->len = session_len;
    j->id_len = id_len < sizeof st.id ? id_len : sizeof st.id;
    j->id = xmalloc(j->id_len);
    memcpy(j->id, id, j->id_len);
    later(0, store_new_answer, j);
}
static void store_resume_answer(void *p) {
    store_job *j = p;
    ntls_request_session_done(j->req, j->data, j->len);
    free(j->data);
    free(j);
}
static void store_resume_cb(ntls_server *srv, const uint8_t *id, size_t id_len, ntls_request *req, void *data) {
    (void)srv;
    (void)data;
    st.resume_session++;
    store_job *j = xmalloc(sizeof *j);
    j->req = req;
    pthread_mutex_lock(&st.mu);
    int known = st.data && st.id_len == id_len && memcmp(st.id, id, id_len) == 0;
    if (known) st.known++;
    if (has("store.invalid")) {
        j->data = (uint8_t *)xstrdup("INVALID SESSION");
        j->len = strlen("INVALID SESSION");
    } else if (known) {
        j->data = xmalloc(st.data_len);
        memcpy(j->data, st.data, st.data_len);
        j->len = st.data_len;
    }
    pthread_mutex_unlock(&st.mu);
    later(0, store_resume_answer, j);
}
static void store_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    st.connections++;
    sock *k = new_sock("quiet", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, swd_data);
    ntls_socket_end(s);
}
static void store_report(void *arg) {
    T("server", "connections %d newSession %d resumeSession %d (known id %d)", st.connections, st.new_session,
      st.resume_session, st.known);
    close_server_task(arg);
}
static void *store_thread(void *arg) {
    server *sv = arg;
    char *out = openssl_client(sv->port, "-reconnect", NULL, NULL);
    T("openssl", "New %d Reused %d", count_lines(out, "New, "), count_lines(out, "Reused, "));
    free(out);
    later(0, store_report, sv);
    release();
    return NULL;
}
static void store_listening(server *sv) {
    hold();
    in_thread(store_thread, sv);
}
static void flow_session_store(void) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = store_server_secure;
    ntls_server_on_new_session(sv->srv, store_new_cb);
    ntls_server_on_resume_session(sv->srv, store_resume_cb);
    listen_server(sv, store_listening);
}

/* resume_after_destroy: see the Node driver. */
static ntls_request *rad_answer;
static sock *rad_second;
static void rad_answer_late(void *arg) {
    ntls_request_session_done(rad_answer, NULL, 0);
    T("server", "resumeSession answered");
    close_server_task(arg);
}
static void rad_next(void) {
    if (!rad_answer || !rad_second) return;
    ntls_socket_destroy(rad_second->s);
    T("client2", "destroyed");
    later(100, rad_answer_late, the_server);
}
static void rad_new_session(ntls_server *srv, const uint8_t *id, size_t id_len, const uint8_t *session,
                            size_t session_len, ntls_request *req, void *data) {
    (void)srv, (void)id, (void)id_len, (void)session, (void)session_len, (void)data;
    ntls_request_session_done(req, NULL, 0);
}
static void rad_resume_session(ntls_server *srv, const uint8_t *id, size_t id_len, ntls_request *req, void *data) {
    (void)srv, (void)id, (void)id_len, (void)data;
    T("server", "resumeSession");
    rad_answer = req;
    rad_next();
}
static void rad_connected(ntls_socket *s, void *data) {
    (void)s;
    T("client2", "connect");
    rad_second = data;
    rad_next();
}
static void rad_second_secure(sock *k) { T(k->side, "secureConnect"); }
static void rad_first_secure(sock *k) {
    T(k->side, "secureConnect");
    ntls_session *session = NULL;
    ntls_socket_get_session(k->s, &session);
    ntls_socket_destroy(k->s);
    sock *k2 = new_sock("client2", k->port, 1);
    k2->on_secure = rad_second_secure;
    ntls_socket *s = connect_client_with(k2, k->port, "client.", 0, session);
    if (s) ntls_socket_on_connect(s, rad_connected);
    if (session) ntls_session_unref(session);
}
static void rad_listening(server *sv) {
    sock *k = new_sock("client1", sv->port, 1);
    k->on_secure = rad_first_secure;
    connect_client(k, sv->port, "client.", 0);
}
static void rad_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    ntls_socket_resume(s); /* Node's server reads on, without a data listener */
}
static void flow_resume_after_destroy(void) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = rad_server_secure;
    ntls_server_on_new_session(sv->srv, rad_new_session);
    ntls_server_on_resume_session(sv->srv, rad_resume_session);
    listen_server(sv, rad_listening);
}

/* tickets: see the Node driver. A server that must switch keys after the client's session
 * event leaves them in `tk_pending`, which the client's session callback applies. */
typedef struct {
    server *sv;
    int id, count;
    uint8_t previous[48];
} tk_server;
static tk_server tk_servers[3];
static int tk_lfd, tk_port;
static ntls_session *tk_session;
static tk_server *tk_pending;
static uint8_t tk_pending_keys[48];
static uint8_t *hex_value(const char *key, size_t *n) {
    const char *v = get(key, "hex:");
    *n = strlen(v + 4) / 2;
    uint8_t *b = xmalloc(*n);
    for (size_t i = 0; i < *n; i++) sscanf(v + 4 + 2 * i, "%2hhx", &b[i]);
    return b;
}
static void tk_set_keys(tk_server *t, const uint8_t *keys, int reused) {
    if (reused) {
        ntls_server_set_ticket_keys(t->sv->srv, keys, 48);
        return;
    }
    tk_pending = t;
    memcpy(tk_pending_keys, keys, 48);
}
static void tk_server_secure(server *sv, ntls_socket *s) {
    tk_server *t = sv->user;
    sock *k = new_sock("quiet", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, swd_data);
    ntls_socket_write(s, "x", 1, NULL, NULL);
    ntls_socket_end(s);
    int reused = ntls_socket_is_session_reused(s);
    T("server", "server %d connection %d isSessionReused %s", t->id, ++t->count, B(reused));
    if (t->count == 1) {
        size_t n;
        uint8_t *keys = hex_value("server.ticketKeys", &n), *rotate = hex_value("rotate", &n);
        ntls_server_get_ticket_keys(sv->srv, t->previous, 48);
        T("server", "server %d getTicketKeys is the option %s", t->id, B(memcmp(t->previous, keys, 48) == 0));
        tk_set_keys(t, rotate, reused);
        free(keys);
        free(rotate);
    } else if (t->count == 2) {
        tk_set_keys(t, t->previous, reused);
    }
}
static void tk_session_cb(ntls_socket *s, ntls_session *session, void *data) {
    (void)s;
    (void)data;
    if (!tk_session) {
        ntls_session_ref(session);
        tk_session = session;
    }
    if (tk_pending) {
        ntls_server_set_ticket_keys(tk_pending->sv->srv, tk_pending_keys, 48);
        tk_pending = NULL;
    }
}
static void tk_adopt(void *arg) {
    int *fd = arg;
    static int next;
    tk_server *t = &tk_servers[next++ % 3];
    if (ntls_server_accept_fd(t->sv->srv, *fd) != 0) close(*fd);
    free(fd);
}
static void *tk_accept_thread(void *arg) {
    (void)arg;
    for (int i = 0; i < 9; i++) {
        int *fd = xmalloc(sizeof *fd);
        *fd = accept4(tk_lfd, NULL, NULL, SOCK_CLOEXEC);
        later(0, tk_adopt, fd);
    }
    close(tk_lfd);
    release();
    return NULL;
}
static void tk_connect(int i);
static void tk_client_secure(sock *k) {
    T("client", "connection %d isSessionReused %s", (int)(intptr_t)k->user, B(ntls_socket_is_session_reused(k->s)));
}
static void tk_client_data(sock *k) {
    if (!k->ended) {
        k->ended = 1;
        ntls_socket_end(k->s);
    }
}
static void tk_client_close(ntls_socket *s, int had, void *data) {
    (void)had;
    sock *k = data;
    int i = (int)(intptr_t)k->user;
    if (i < 9) {
        tk_connect(i + 1);
    } else {
        for (int j = 0; j < 3; j++) {
            hold(); /* the servers never listened: each close event is one release */
            ntls_server_close(tk_servers[j].sv->srv, NULL);
        }
    }
    ntls_socket_unref(s);
    release();
}
static void tk_connect(int i) {
    sock *k = new_sock("client", tk_port, 1);
    k->user = (void *)(intptr_t)i;
    k->on_secure = tk_client_secure;
    k->on_data = tk_client_data;
    ntls_socket *s = connect_client_with(k, tk_port, "client.", 0, tk_session);
    if (!s) return;
    ntls_socket_on_session(s, tk_session_cb);
    ntls_socket_on_close(s, tk_client_close);
    ntls_socket_on_end(s, NULL);
}
static void tk_start(void *arg) {
    (void)arg;
    tk_connect(1);
}
static void flow_tickets(void) {
    for (int i = 0; i < 3; i++) {
        server *sv = make_server(NULL, 0);
        if (!sv) return;
        tk_servers[i].sv = sv;
        tk_servers[i].id = i;
        sv->user = &tk_servers[i];
        sv->on_secure = tk_server_secure;
    }
    tk_lfd = tcp_listen(&tk_port);
    hold();
    in_thread(tk_accept_thread, NULL);
    later(0, tk_start, NULL);
}

/* inception: see the Node driver. Server A relays between its TLS connection and a plain TCP
 * connection to B (a thread reads B's side); the client's inner TLS is an ntls_pair carried
 * over the outer socket's cleartext. */
static server *inc_a, *inc_b;
typedef struct {
    ntls_socket *s;
    int fd;
} inc_relay;
static void inc_relay_data(ntls_socket *s, const uint8_t *b, size_t n, void *data) {
    (void)s;
    write_all(((inc_relay *)data)->fd, b, n);
}
static void inc_relay_end(ntls_socket *s, void *data) {
    (void)s;
    shutdown(((inc_relay *)data)->fd, SHUT_WR);
}
/* dest's end: socket.destroy(), once what was piped reached the kernel (Node's pipe wrote it
 * there already; here the writes of this thread are queued to the loop, and a destroy
 * right behind them would cancel them). */
static void inc_relay_written(ntls_socket *s, int status, void *arg) {
    (void)status;
    (void)arg;
    ntls_socket_destroy(s);
}
static void *inc_relay_thread(void *arg) {
    inc_relay *r = arg;
    char buf[16384];
    ssize_t n;
    while ((n = recv(r->fd, buf, sizeof buf, 0)) > 0) ntls_socket_write(r->s, buf, (size_t)n, NULL, NULL);
    if (ntls_socket_write(r->s, "", 0, inc_relay_written, NULL) < 0) ntls_socket_destroy(r->s);
    ntls_socket_unref(r->s);
    close(r->fd);
    free(r);
    release();
    return NULL;
}
static void inc_a_secure(server *sv, ntls_socket *s) {
    (void)sv;
    inc_relay *r = xmalloc(sizeof *r);
    r->s = s;
    r->fd = tcp_connect(inc_b->port);
    ntls_socket_ref(s);
    ntls_socket_set_data(s, r);
    ntls_socket_on_data(s, inc_relay_data);
    ntls_socket_on_end(s, inc_relay_end);
    hold();
    in_thread(inc_relay_thread, r);
}
static void inc_b_secure(server *sv, ntls_socket *s) {
    (void)sv;
    size_t n = (size_t)num("size", 40000);
    char *body = xmalloc(n);
    memset(body, 'A', n);
    sock *k = new_sock("quiet", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, swd_data);
    ntls_socket_write(s, body, n, NULL, NULL);
    ntls_socket_end(s);
    free(body);
}
static ntls_socket *inc_outer;
static ntls_pair *inc_ssl;
static size_t inc_got;
static uint8_t inc_head[64];
static void inc_flush(void) {
    uint8_t out[16384];
    int n;
    while ((n = ntls_pair_pull(inc_ssl, out, sizeof out)) > 0) ntls_socket_write(inc_outer, out, (size_t)n, NULL, NULL);
}
static void inc_outer_data(ntls_socket *s, const uint8_t *b, size_t n, void *data) {
    (void)s;
    (void)data;
    for (size_t off = 0; off < n;) {
        int took = ntls_pair_feed(inc_ssl, b + off, n - off);
        if (took < 0) break;
        off += (size_t)took;
        ntls_pair_dispatch(inc_ssl);
        inc_flush();
    }
    ntls_pair_dispatch(inc_ssl);
    inc_flush();
}
static void inc_outer_end(ntls_socket *s, void *data) {
    (void)s;
    (void)data;
    ntls_pair_feed_end(inc_ssl);
    ntls_pair_dispatch(inc_ssl);
}
static void inc_outer_error(ntls_socket *s, const ntls_error *e, void *data) {
    (void)s;
    (void)data;
    T("client", "error %s", ntls_error_code(e));
}
static void inc_outer_close(ntls_socket *s, int had, void *data) {
    (void)had;
    (void)data;
    ntls_socket_unref(s);
    release();
}
static void inc_ssl_secure(ntls_pair *p, void *data) {
    (void)data;
    T("ssl", "secureConnect");
    if (strstr(get("trace.ssl", ""), "authorized")) T("ssl", "authorized %s", B(ntls_pair_authorized(p)));
}
static void inc_ssl_data(ntls_pair *p, const uint8_t *b, size_t n, void *data) {
    (void)p;
    (void)data;
    if (inc_got < sizeof inc_head) memcpy(inc_head + inc_got, b, n < sizeof inc_head - inc_got ? n : sizeof inc_head - inc_got);
    inc_got += n;
}
static void inc_ssl_end(ntls_pair *p, void *data) {
    (void)data;
    char pv[256];
    preview(inc_head, inc_got, pv);
    if (inc_got) T("ssl", "data %zu %s", inc_got, pv);
    T("ssl", "end");
    ntls_pair_end(p);
    inc_flush();
    /* Node's ssl.end() ends the stream under it too, once its close_notify is written. */
    ntls_socket_end(inc_outer);
    ntls_server_close(inc_a->srv, NULL);
    ntls_server_close(inc_b->srv, NULL);
}
static void inc_ssl_error(ntls_pair *p, const ntls_error *e, void *data) {
    (void)p;
    (void)data;
    T("ssl", "error %s", ntls_error_code(e));
}
static void inc_ssl_close(ntls_pair *p, int had, void *data) {
    (void)had;
    (void)data;
    inc_flush();
    ntls_pair_unref(p);
    inc_ssl = NULL;
}
static void inc_start(server *b) {
    (void)b;
    int ok;
    ntls_options *o = options("client.", "client", &ok);
    ntls_options_set_int(o, NTLS_OPT_PORT, inc_a->port);
    if (ntls_socket_new(NULL, &inc_outer) != 0) die("socket_new");
    ntls_socket_on_data(inc_outer, inc_outer_data);
    ntls_socket_on_end(inc_outer, inc_outer_end);
    ntls_socket_on_error(inc_outer, inc_outer_error);
    ntls_socket_on_close(inc_outer, inc_outer_close);
    hold();
    if (ntls_pair_new(o, &inc_ssl) != 0) die(ntls_options_last_error(o));
    ntls_pair_on_secure(inc_ssl, inc_ssl_secure);
    ntls_pair_on_data(inc_ssl, inc_ssl_data);
    ntls_pair_on_end(inc_ssl, inc_ssl_end);
    ntls_pair_on_error(inc_ssl, inc_ssl_error);
    ntls_pair_on_close(inc_ssl, inc_ssl_close);
    if (ntls_socket_connect(inc_outer, o) != 0) die(ntls_options_last_error(o));
    ntls_pair_start(inc_ssl);
    inc_flush(); /* the inner ClientHello waits in the outer socket until it is secure */
    ntls_options_unref(o);
}
static void inc_listen_b(server *a) {
    (void)a;
    listen_server(inc_b, inc_start);
}
static void flow_inception(void) {
    inc_b = make_server(NULL, 0);
    inc_a = make_server(NULL, 0);
    if (!inc_a || !inc_b) return;
    inc_b->on_secure = inc_b_secure;
    inc_a->on_secure = inc_a_secure;
    listen_server(inc_a, inc_listen_b);
}

/* pair_to_pair: see the Node driver; the two ends are ntls_pairs on a thread of the driver,
 * which moves each one's ciphertext into the other. */
static ntls_pair *pp_client, *pp_server;
static uint8_t pp_head[64];
static size_t pp_got;
static int pp_done;
static void pp_pair_getters(ntls_pair *p, const char *side, const char *key) {
    const char *list = get(key, "");
    if (strstr(list, "authorized")) T(side, "authorized %s", B(ntls_pair_authorized(p)));
    if (strstr(list, "protocol")) {
        const char *v = ntls_pair_get_protocol(p);
        T(side, "getProtocol %s", v ? v : "null");
    }
}
static void pp_client_secure(ntls_pair *p, void *data) {
    (void)data;
    T("client", "secureConnect");
    pp_pair_getters(p, "client", "trace.client");
    const char *send = get("send", "hello");
    ntls_pair_write(p, send, strlen(send));
    ntls_pair_end(p);
}
static void pp_server_secure(ntls_pair *p, void *data) {
    (void)data;
    T("server", "secure");
    pp_pair_getters(p, "server", "trace.server");
}
static void pp_server_data(ntls_pair *p, const uint8_t *b, size_t n, void *data) {
    (void)p;
    (void)data;
    if (pp_got < sizeof pp_head) memcpy(pp_head + pp_got, b, n < sizeof pp_head - pp_got ? n : sizeof pp_head - pp_got);
    pp_got += n;
}
static void pp_server_end(ntls_pair *p, void *data) {
    (void)p;
    (void)data;
    char pv[256];
    preview(pp_head, pp_got, pv);
    if (pp_got) T("server", "data %zu %s", pp_got, pv);
    T("server", "end");
    pp_done = 1;
}
static void pp_error(ntls_pair *p, const ntls_error *e, void *data) {
    (void)p;
    T(data, "error %s", ntls_error_code(e));
    pp_done = 1;
}
/* Everything `from` has for the wire, fed to `to`, dispatching as `to` takes it. */
static void pp_move(ntls_pair *from, ntls_pair *to) {
    uint8_t buf[16384];
    int n;
    while ((n = ntls_pair_pull(from, buf, sizeof buf)) > 0) {
        for (int off = 0; off < n;) {
            int took = ntls_pair_feed(to, buf + off, (size_t)(n - off));
            if (took < 0) return;
            off += took;
            ntls_pair_dispatch(to);
        }
    }
}
static ntls_pair *pp_new(const char *prefix, int is_server, char *side) {
    int ok;
    ntls_options *o = options(prefix, side, &ok);
    if (is_server) ntls_options_set_bool(o, NTLS_OPT_IS_SERVER, 1);
    ntls_pair *p = NULL;
    if (!ok || ntls_pair_new(o, &p) != 0) die(ntls_options_last_error(o));
    ntls_options_unref(o);
    ntls_pair_set_data(p, side);
    ntls_pair_on_error(p, pp_error);
    return p;
}
static void *pp_thread(void *arg) {
    (void)arg;
    pp_server = pp_new("server.", 1, "server");
    pp_client = pp_new("client.", 0, "client");
    ntls_pair_on_secure(pp_server, pp_server_secure);
    ntls_pair_on_data(pp_server, pp_server_data);
    ntls_pair_on_end(pp_server, pp_server_end);
    ntls_pair_on_secure(pp_client, pp_client_secure);
    ntls_pair_start(pp_server);
    ntls_pair_start(pp_client);
    for (int i = 0; i < 1000 && !pp_done; i++) {
        pp_move(pp_client, pp_server);
        pp_move(pp_server, pp_client);
        ntls_pair_dispatch(pp_client);
        ntls_pair_dispatch(pp_server);
    }
    ntls_pair_unref(pp_client);
    ntls_pair_unref(pp_server);
    release();
    return NULL;
}
static void flow_pair_to_pair(void) {
    hold();
    in_thread(pp_thread, NULL);
}

/* pair_over_tcp: see the Node driver. A thread of the driver connects, then moves the client
 * pair's ciphertext over the plain socket both ways. */
static int pt_closed;
static void pt_client_secure(ntls_pair *p, void *data) {
    (void)data;
    T("client", "secureConnect");
    const char *send = get("send", "hello");
    for (int i = 0; i < 50; i++) ntls_pair_write(p, send, strlen(send));
    ntls_pair_end(p);
}
static void pt_client_close(ntls_pair *p, int had, void *data) {
    (void)p;
    (void)had;
    (void)data;
    pt_closed = 1;
}
static void pt_send_all(ntls_pair *p, int fd) {
    uint8_t buf[16384];
    int n;
    while ((n = ntls_pair_pull(p, buf, sizeof buf)) > 0) write_all(fd, buf, (size_t)n);
}
static void *pt_thread(void *arg) {
    server *sv = arg;
    int fd = tcp_connect(sv->port);
    ntls_pair *p = pp_new("client.", 0, "client");
    ntls_pair_on_secure(p, pt_client_secure);
    ntls_pair_on_close(p, pt_client_close);
    ntls_pair_start(p);
    uint8_t buf[16384];
    for (int i = 0; i < 2000 && !pt_closed; i++) {
        pt_send_all(p, fd);
        struct pollfd pfd = {fd, POLLIN, 0};
        if (poll(&pfd, 1, 10) <= 0) continue;
        ssize_t r = recv(fd, buf, sizeof buf, 0);
        if (r <= 0) {
            ntls_pair_feed_end(p);
        } else {
            for (ssize_t off = 0; off < r;) {
                int took = ntls_pair_feed(p, buf + off, (size_t)(r - off));
                if (took < 0) break;
                off += took;
                ntls_pair_dispatch(p);
            }
        }
        ntls_pair_dispatch(p);
    }
    pt_send_all(p, fd);
    close(fd);
    ntls_pair_unref(p);
    release();
    return NULL;
}
static void pt_server_end(ntls_socket *s, void *data) {
    (void)s;
    sock *k = data;
    flush_data(k);
    T(k->side, "end");
    ntls_server_close(the_server->srv, NULL);
}
static void pt_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("server", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, on_data_cb);
    ntls_socket_on_end(s, pt_server_end);
}
static void pt_listening(server *sv) {
    hold();
    in_thread(pt_thread, sv);
}
static void flow_pair_over_tcp(void) { run_server(pt_server_secure, pt_listening); }

/* resume_client: the first connection's first session (its `session` event) is offered by the
 * second connection. */
static ntls_session *rc_session;
static void rc_session_cb(ntls_socket *s, ntls_session *session, void *data) {
    (void)s;
    if (rc_session) return; /* Node's once('session') */
    T(((sock *)data)->side, "session");
    ntls_session_ref(session);
    rc_session = session;
}
static void rc_second_secure(sock *k) {
    T(k->side, "secureConnect isSessionReused %s", B(ntls_socket_is_session_reused(k->s)));
}
static void rc_second_close(ntls_socket *s, int had, void *data) {
    sock *k = data;
    (void)had;
    T(k->side, "close");
    ntls_server_close(the_server->srv, NULL);
    ntls_socket_unref(s);
    release();
}
static void rc_first_close(sock *k) {
    if (!rc_session) return; /* Node's second connect waits for a session */
    sock *k2 = new_sock("client2", k->port, 1);
    k2->on_secure = rc_second_secure;
    ntls_socket *s = connect_client_with(k2, k->port, "client.", 0, rc_session);
    if (s) {
        ntls_socket_on_close(s, rc_second_close);
        ntls_socket_on_end(s, NULL);
        ntls_socket_on_data(s, swd_data);
    }
}
static void rc_first_secure(sock *k) {
    T(k->side, "secureConnect isSessionReused %s", B(ntls_socket_is_session_reused(k->s)));
}
static void rc_quiet_close(ntls_socket *s, int had, void *data) {
    sock *k = data;
    (void)had;
    if (k->on_close) k->on_close(k);
    ntls_socket_unref(s);
    release();
}
static void rc_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    sock *k = new_sock("quiet", 0, 0);
    ntls_socket_set_data(s, k);
    ntls_socket_on_data(s, swd_data);
    ntls_socket_write(s, "Goodbye", 7, NULL, NULL);
    ntls_socket_end(s);
}
static void rc_listening(server *sv) {
    sock *k = new_sock("client1", sv->port, 1);
    k->on_secure = rc_first_secure;
    k->on_close = rc_first_close;
    ntls_socket *s = connect_client(k, sv->port, "client.", 0);
    if (s) {
        ntls_socket_on_session(s, rc_session_cb);
        ntls_socket_on_close(s, rc_quiet_close);
        ntls_socket_on_end(s, NULL);
        ntls_socket_on_data(s, swd_data);
    }
}
static void flow_resume_client(void) { run_server(rc_server_secure, rc_listening); }

/* buffer_size: bufferSize as the client writes nine bytes one by one; once all is written
 * (Node: `finish`; here: the last write's callback, which fires when its bytes reached the
 * kernel, the earlier ones before them). */
static void bs_trace(sock *k, const char *what) {
    int64_t n = ntls_socket_buffer_size(k->s);
    if (n >= 0)
        T(k->side, "%sbufferSize %lld", what, (long long)n);
    else
        T(k->side, "%sbufferSize undefined", what);
}
static void bs_written(ntls_socket *s, int status, void *arg) {
    (void)s;
    (void)status;
    bs_trace(arg, "all written, ");
}
static void bs_client_secure(sock *k) {
    bs_trace(k, "");
    for (int i = 1; i < 10; i++) {
        ntls_socket_write(k->s, "a", 1, i == 9 ? bs_written : NULL, k);
        bs_trace(k, "");
    }
    ntls_socket_end(k->s);
}
static void bs_listening(server *sv) { start_client(sv, bs_client_secure); }
static void flow_buffer_size(void) { run_server(watch_server_side, bs_listening); }

/* set_secure_context: see the Node driver. The first client's server socket is kept open
 * while the server's certificate changes. */
static ntls_socket *ssc_first;
static int ssc_open = 2;
static void ssc_srv_data(ntls_socket *s, const uint8_t *b, size_t n, void *data) {
    int *seen = data;
    if (*seen) return;
    *seen = 1;
    if (n == 1 && b[0] == '1') {
        ssc_first = s;
        ntls_socket_write(s, "multi-", 6, NULL, NULL);
    } else {
        ntls_socket_write(s, "success", 7, NULL, NULL);
        ntls_socket_end(s);
    }
}
static void ssc_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    ntls_socket_set_data(s, xmalloc(sizeof(int)));
    ntls_socket_on_data(s, ssc_srv_data);
}
static void ssc_swap(const char *prefix) {
    int ok;
    ntls_options *o = options(prefix, "server", &ok);
    int rc = ok ? ntls_server_set_secure_context(the_server->srv, o) : NTLS_EINVAL;
    char name[32];
    snprintf(name, sizeof name, "%.*s", (int)strlen(prefix) - 1, prefix);
    if (rc == 0)
        T("server", "setSecureContext %s", name);
    else
        T("server", "setSecureContext %s failed: %s", name, ntls_err_name(rc));
    ntls_options_unref(o);
}
static void ssc_client_secure(sock *k) {
    T(k->side, "secureConnect");
    ntls_socket_write(k->s, k->side + strlen("client"), 1, NULL, NULL);
}
static void ssc_client(int n, sock_fn then) {
    char side[16];
    snprintf(side, sizeof side, "client%d", n);
    sock *k = new_sock(side, the_server->port, 1);
    k->on_secure = ssc_client_secure;
    k->on_close = then;
    connect_client(k, the_server->port, "client.", 0);
}
static void ssc_done(sock *k) {
    (void)k;
    if (--ssc_open == 0) ntls_server_close(the_server->srv, NULL);
}
static void ssc_step5(sock *k) {
    (void)k;
    ntls_socket_write(ssc_first, "success-", 8, NULL, NULL);
    ssc_swap("ctxB.");
    ntls_socket_write(ssc_first, "fun!", 4, NULL, NULL);
    ntls_socket_end(ssc_first);
    ssc_client(5, ssc_done);
}
static void ssc_step4(sock *k) {
    (void)k;
    ssc_swap("server.");
    ssc_client(4, ssc_step5);
}
static void ssc_step3(sock *k) {
    (void)k;
    ssc_swap("ctxB.");
    ntls_socket_write(ssc_first, "request-", 8, NULL, NULL);
    ssc_client(3, ssc_step4);
}
static void ssc_first_data(sock *k) {
    if (k->user) return;
    k->user = k;
    ssc_client(2, ssc_step3);
}
static void ssc_listening(server *sv) {
    sock *k = new_sock("client1", sv->port, 1);
    k->on_secure = ssc_client_secure;
    k->on_data = ssc_first_data;
    k->on_close = ssc_done;
    connect_client(k, sv->port, "client.", 0);
}
static void flow_set_secure_context(void) { run_server(ssc_server_secure, ssc_listening); }

/* accept_fd: a plain listener accepts; the TLS server is handed the connection
 * (ntls_server_accept_fd, Node's server.emit('connection')). Once the echo came back, Node
 * destroys the net socket under the server's TLS socket; the descriptor belongs to the library
 * here (a shutdown of a duplicate would look like a broken peer, not a local destroy), so the
 * driver destroys the server's TLS socket itself. */
static ntls_socket *afd_server_socket;
static void afd_adopt(void *arg) {
    wrap_srv *w = arg;
    int rc = ntls_server_accept_fd(the_server->srv, w->fd);
    if (rc != 0) {
        T("server", "accept_fd error %s", ntls_err_name(rc));
        close(w->fd);
    }
    free(w);
}
static void *afd_accept_thread(void *arg) {
    wrap_srv *w = arg;
    w->fd = accept4(w->lfd, NULL, NULL, SOCK_CLOEXEC);
    close(w->lfd);
    later(0, afd_adopt, w);
    release();
    return NULL;
}
static void afd_server_secure(server *sv, ntls_socket *s) {
    (void)sv;
    T("server", "secureConnection");
    sock *k = new_sock("server", 0, 0);
    ntls_socket_ref(s);
    watch(k, s, 1);
    afd_server_socket = s;
}
static void afd_client_data(sock *k) {
    (void)k;
    if (!afd_server_socket) return;
    ntls_socket_destroy(afd_server_socket);
    afd_server_socket = NULL;
    T("raw", "destroyed");
}
static void afd_client_close(sock *k) {
    (void)k;
    hold(); /* the server never listened: its close event is the one release */
    ntls_server_close(the_server->srv, NULL);
}
static void flow_accept_fd(void) {
    server *sv = make_server(NULL, 0);
    if (!sv) return;
    sv->on_secure = afd_server_secure;
    wrap_srv *w = xmalloc(sizeof *w);
    w->lfd = tcp_listen(&w->port);
    int port = w->port;
    hold();
    in_thread(afd_accept_thread, w);
    sock *k = new_sock("client", port, 1);
    k->on_data = afd_client_data;
    k->on_close = afd_client_close;
    ntls_socket *s = connect_client(k, port, "client.", 0);
    if (s) ntls_socket_write(s, ".", 1, NULL, NULL);
}

static const struct {
    const char *name;
    void (*fn)(void);
} flows[] = {
    {"basic", flow_basic},
    {"create", flow_create},
    {"raw_client", flow_raw_client},
    {"raw_server", flow_raw_server},
    {"pause_write", flow_pause_write},
    {"throttle", flow_throttle},
    {"backpressure", flow_backpressure},
    {"half_open_client", flow_half_open_client},
    {"half_open_server", flow_half_open_server},
    {"write_after_end", flow_write_after_end},
    {"destroy_immediately", flow_destroy_immediately},
    {"server_write_destroy", flow_server_write_destroy},
    {"invoke_queued", flow_invoke_queued},
    {"server_close_open", flow_server_close_open},
    {"timeout", flow_timeout},
    {"wrap_server", flow_wrap_server},
    {"wrap_client", flow_wrap_client},
    {"two_clients", flow_two_clients},
    {"bad_record", flow_bad_record},
    {"early_end", flow_early_end},
    {"resume_openssl", flow_resume_openssl},
    {"resume_client", flow_resume_client},
    {"session_store", flow_session_store},
    {"resume_after_destroy", flow_resume_after_destroy},
    {"tickets", flow_tickets},
    {"inception", flow_inception},
    {"pair_to_pair", flow_pair_to_pair},
    {"pair_over_tcp", flow_pair_over_tcp},
    {"buffer_size", flow_buffer_size},
    {"set_secure_context", flow_set_secure_context},
    {"accept_fd", flow_accept_fd},
};

static void (*the_flow)(void);
static void start(void *arg) {
    (void)arg;
    the_flow();
    release(); /* the start itself */
}

int main(int argc, char **argv) {
    if (argc != 4) die("usage: conformance_driver SCENARIO CERT_DIR SCENARIOS_FILE");
    signal(SIGPIPE, SIG_IGN);
    cert_dir = argv[2];
    load_spec(argv[3], argv[1]);
    const char *flow = get("flow", "basic");
    for (size_t i = 0; i < sizeof flows / sizeof flows[0]; i++)
        if (strcmp(flows[i].name, flow) == 0) the_flow = flows[i].fn;
    if (!the_flow) die("unknown flow");
    /* A closed port for `client.port = closed`, a free one for `client.localPort = free`. */
    int fd = tcp_listen(&closed_port);
    close(fd);
    fd = tcp_listen(&free_port);
    close(fd);
    snprintf(sock_path, sizeof sock_path, "/tmp/conformance-c-%d.sock", (int)getpid());
    if (on_path()) unlink(sock_path);
    loop = ntls_default_loop();
    hold();
    if (ntls_loop_call(loop, start, NULL) != 0) die("loop_call");
    long timeout = num("timeout", 8000);
    for (long waited = 0; !atomic_load(&finished); waited += 2) {
        if (waited >= timeout) {
            T("driver", "TIMEOUT");
            fflush(stdout);
            _exit(2);
        }
        sleep_ms(2);
    }
    sleep_ms(100); /* late events after the last close would show here, as they would in Node */
    fflush(stdout);
    _exit(0);
}
