/*
 * nodetls.hpp: C++17 wrappers over nodetls.h, header-only. Written by hand (nodetls.h is
 * generated); the rules at the top of nodetls.h hold here too, and these add to them.
 *
 * Handles. Loop, Options, Context, Server, Socket and Cert each own one reference of the C
 * handle: move-only, released (_unref) by the destructor. A moved-from wrapper holds NULL,
 * and every call on it fails with NTLS_EINVAL as the C function does. get() gives the C
 * handle for calls this header does not wrap.
 *
 * Callbacks are std::function, so lambdas may capture. They run on the loop's thread, one at
 * a time, never inside the call that caused them. They may be set or replaced from any
 * thread and from inside any callback (also the running one); an exception must not leave
 * one (the C library is below it: std::terminate is called, as for std::thread).
 * A handle's callbacks live in one heap object that the C callbacks get as their `data`
 * pointer: the wrappers of the handle and the library each hold it, the library from the
 * start (listen, connect, wrap_fd, destroy, close) until the close event, so it is freed
 * after that event, or with the last wrapper when the handle never started. Do not call
 * ntls_socket_set_data/ntls_server_set_data on a handle used through these wrappers.
 *
 * Borrowed sockets. A SocketRef is a view: the socket a callback is given, valid for that
 * call (nodetls.h: "a handle passed to a callback is borrowed"). Setting its callbacks is
 * fine; to keep the socket beyond the call, s.ref() gives a Socket that owns a reference
 * (ntls_socket_ref). A started socket lives on without any wrapper until its close event,
 * as in Node: dropping a Socket or a Server does not close it; call end(), destroy() or
 * close().
 *
 * Strings come back as std::string_view into the handle's own storage, valid as long as
 * the handle; an empty view stands for the C API's NULL ("none"), which is never a valid
 * value of those strings.
 *
 * Errors, one rule: exceptions where something is built, std::error_code for everything
 * done with what was built. Building an Options, Context, Server, Socket or Loop has no
 * half-made object to return, fails rarely and for reasons the program cannot go on
 * without ("key does not match certificate"), so it throws nodetls::error (a
 * std::system_error carrying the library's words); calls on a live handle (write, end,
 * connect, listen, ...) fail as part of normal operation (NTLS_ECLOSED after the peer
 * left, NTLS_EALREADY) and are mostly made inside callbacks, where an exception could not
 * travel up through the C library, so they return std::error_code (category
 * nodetls::category(): ntls_strerror's text, and errno-range codes compare equal to
 * std::errc, e.g. ec == std::errc::connection_refused).
 */
#ifndef NTLS_NODETLS_HPP
#define NTLS_NODETLS_HPP

#include "nodetls.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

namespace nodetls {

// ---- Errors -------------------------------------------------------------------------------

namespace detail {
class category_impl final : public std::error_category {
  public:
    const char *name() const noexcept override { return "nodetls"; }
    std::string message(int status) const override { return ntls_strerror(status); }
    std::error_condition default_error_condition(int status) const noexcept override {
        // libuv's numbering: a code in errno's range is -errno, so it compares to std::errc.
        if (status < 0 && status > -1000) return std::error_condition(-status, std::generic_category());
        return std::error_condition(status, *this);
    }
};
}  // namespace detail

/// The category of the library's status codes; the error_code's value is the NTLS_E* status.
inline const std::error_category &category() noexcept {
    static const detail::category_impl instance;
    return instance;
}

/// A status as an error_code: 0 and positive counts are success (a false error_code).
inline std::error_code make_error_code(int status) noexcept {
    return status < 0 ? std::error_code(status, category()) : std::error_code();
}

/// The status's name ("ECONNREFUSED"); "" for a code of another category.
inline const char *err_name(const std::error_code &ec) noexcept {
    if (!ec) return "OK";
    return &ec.category() == &category() ? ntls_err_name(ec.value()) : "";
}

/// What building something throws: the status, and the library's words as what().
class error : public std::system_error {
  public:
    error(int status, const std::string &words) : std::system_error(make_error_code(status), words) {}
};

namespace detail {
inline std::string_view view(const char *s) noexcept { return s ? std::string_view(s) : std::string_view(); }

[[noreturn]] inline void fail(int status, std::string_view words) {
    throw error(status, words.empty() ? std::string(ntls_strerror(status)) : std::string(words));
}
}  // namespace detail

/// An error event's error (`const ntls_error *`): valid during the callback only.
class Error {
  public:
    explicit Error(const ntls_error *err) noexcept : err_(err) {}
    /// Node's err.code: "ECONNREFUSED", "CERT_HAS_EXPIRED", "ERR_TLS_CERT_ALTNAME_INVALID", ...
    std::string_view code() const noexcept { return detail::view(ntls_error_code(err_)); }
    /// Node's err.message.
    std::string_view message() const noexcept { return detail::view(ntls_error_message(err_)); }
    /// The NTLS_E* status.
    std::error_code status() const noexcept { return make_error_code(ntls_error_status(err_)); }
    const ntls_error *get() const noexcept { return err_; }

  private:
    const ntls_error *err_;
};

// ---- Small values -------------------------------------------------------------------------

/// Bytes owned by a handle (a certificate's DER).
struct Bytes {
    const uint8_t *data = nullptr;
    size_t size = 0;
};

/// An address: `remoteAddress`/`remotePort`/`remoteFamily` (4 or 6), `server.address()`.
struct Address {
    std::string host;
    int port = 0;
    int family = 0;
};

/// `getCipher()`: OpenSSL name, IANA name, protocol version.
struct Cipher {
    std::string_view name, standard_name, version;
};

/// `getEphemeralKeyInfo()`: the key exchange's group and its size in bits.
struct EphemeralKeyInfo {
    std::string_view name;
    int size = 0;
};

/// `tls.getCiphers()`: static names.
inline std::vector<std::string_view> get_ciphers() {
    int n = ntls_get_ciphers(nullptr, 0);
    if (n <= 0) return {};
    std::vector<const char *> names(static_cast<size_t>(n));
    n = ntls_get_ciphers(names.data(), names.size());
    names.resize(n < 0 ? 0 : std::min(names.size(), static_cast<size_t>(n)));
    std::vector<std::string_view> out;
    for (const char *name : names) out.push_back(detail::view(name));
    return out;
}

/// Node's `--tls-cipher-list`: the default `ciphers` of contexts made afterwards.
inline std::error_code set_default_ciphers(const char *list) noexcept {
    return make_error_code(ntls_set_default_ciphers(list));
}

/// The library's version, "MAJOR.MINOR.PATCH".
inline std::string_view version() noexcept { return detail::view(ntls_version()); }

/// The NTLS_OPT_* key of a Node option name ("rejectUnauthorized"), or NTLS_EINVAL.
inline int option_by_name(const char *name) noexcept { return ntls_option_by_name(name); }

// ---- Reference-holding base ---------------------------------------------------------------

namespace detail {
/// One owned reference of a C handle; `Unref` is a struct with `static void unref(T *)`.
template <class T, class Unref> class Handle {
  public:
    Handle() noexcept = default;
    explicit Handle(T *adopt) noexcept : p_(adopt) {}
    Handle(Handle &&o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
    Handle &operator=(Handle &&o) noexcept {
        if (this != &o) {
            reset();
            p_ = std::exchange(o.p_, nullptr);
        }
        return *this;
    }
    Handle(const Handle &) = delete;
    Handle &operator=(const Handle &) = delete;
    ~Handle() { reset(); }

    T *get() const noexcept { return p_; }
    explicit operator bool() const noexcept { return p_ != nullptr; }
    /// Gives up the reference without releasing it.
    T *release() noexcept { return std::exchange(p_, nullptr); }

  protected:
    void reset() noexcept {
        if (p_) Unref::unref(std::exchange(p_, nullptr));
    }
    T *p_ = nullptr;
};

struct OptionsUnref {
    static void unref(ntls_options *p) noexcept { ntls_options_unref(p); }
};
struct ContextUnref {
    static void unref(ntls_context *p) noexcept { ntls_context_unref(p); }
};
struct CertUnref {
    static void unref(ntls_cert *p) noexcept { ntls_cert_unref(p); }
};
}  // namespace detail

// ---- Loop ---------------------------------------------------------------------------------

/// A loop with its own reactor thread (`ntls_loop_new`), or the process's default loop.
class Loop {
  public:
    /// Starts a new loop and its thread.
    Loop() {
        int rc = ntls_loop_new(&lp_);
        if (rc != 0) detail::fail(rc, "ntls_loop_new");
    }
    /// The process-wide loop that a NULL loop means in nodetls.h; never closed.
    static Loop default_loop() noexcept { return Loop(ntls_default_loop()); }

    Loop(Loop &&o) noexcept : lp_(std::exchange(o.lp_, nullptr)) {}
    Loop &operator=(Loop &&o) noexcept {
        if (this != &o) {
            drop();
            lp_ = std::exchange(o.lp_, nullptr);
        }
        return *this;
    }
    Loop(const Loop &) = delete;
    Loop &operator=(const Loop &) = delete;
    /// Closes the loop if it can (not while handles are open, not from its own thread, never
    /// the default loop), then drops the reference.
    ~Loop() { drop(); }

    /// Stops the loop's thread: NTLS_EBUSY while handles are open or on its own thread.
    std::error_code close() noexcept { return make_error_code(ntls_loop_close(lp_)); }

    /// Runs `fn` on the loop's thread, on a later turn (`ntls_loop_call`).
    std::error_code call(std::function<void()> fn) {
        auto *heap = new std::function<void()>(std::move(fn));
        int rc = ntls_loop_call(lp_, &run_call, heap);
        if (rc != 0) delete heap;
        return make_error_code(rc);
    }

    ntls_loop *get() const noexcept { return lp_; }
    explicit operator bool() const noexcept { return lp_ != nullptr; }

  private:
    explicit Loop(ntls_loop *lp) noexcept : lp_(lp) {}
    void drop() noexcept {
        if (!lp_) return;
        ntls_loop_close(lp_);  // NTLS_EBUSY/NTLS_EPERM leave the loop running: nothing to do
        ntls_loop_unref(std::exchange(lp_, nullptr));
    }
    static void run_call(void *arg) noexcept {
        std::unique_ptr<std::function<void()>> fn(static_cast<std::function<void()> *>(arg));
        if (*fn) (*fn)();
    }
    ntls_loop *lp_ = nullptr;
};

// ---- Options, Context, Cert ----------------------------------------------------------------

class Context;

/// Node's options by NTLS_OPT_* key; every setter throws nodetls::error with the words of
/// ntls_options_last_error on a wrong key, type or value, and returns *this for chaining.
class Options : public detail::Handle<ntls_options, detail::OptionsUnref> {
  public:
    Options() {
        int rc = ntls_options_new(&p_);
        if (rc != 0) detail::fail(rc, "ntls_options_new");
    }

    Options &set_bool(int key, bool value) { return check(ntls_options_set_bool(p_, key, value ? 1 : 0)); }
    Options &set_int(int key, int64_t value) { return check(ntls_options_set_int(p_, key, value)); }
    Options &set_string(int key, const char *value) { return check(ntls_options_set_string(p_, key, value)); }
    Options &set_string(int key, const std::string &value) { return set_string(key, value.c_str()); }
    Options &add_string(int key, const char *value) { return check(ntls_options_add_string(p_, key, value)); }
    Options &add_string(int key, const std::string &value) { return add_string(key, value.c_str()); }
    Options &set_bytes(int key, const void *data, size_t len) {
        return check(ntls_options_set_bytes(p_, key, static_cast<const uint8_t *>(data), len));
    }
    Options &set_bytes(int key, std::string_view bytes) { return set_bytes(key, bytes.data(), bytes.size()); }
    Options &add_bytes(int key, const void *data, size_t len) {
        return check(ntls_options_add_bytes(p_, key, static_cast<const uint8_t *>(data), len));
    }
    /// PEM text read into a std::string, for example.
    Options &add_bytes(int key, std::string_view bytes) { return add_bytes(key, bytes.data(), bytes.size()); }
    /// Node's `key: [{pem, passphrase}]`; no passphrase: the options' `passphrase` applies.
    Options &add_key(std::string_view pem, const char *passphrase = nullptr) {
        return check(ntls_options_add_key(p_, reinterpret_cast<const uint8_t *>(pem.data()), pem.size(), passphrase));
    }
    /// `secureContext`; the options keep their own reference to the context.
    Options &set_context(const Context &ctx);

    /// The key of a Node option name, throwing "unknown option 'x'".
    int key(const char *node_name) {
        int k = ntls_options_key(p_, node_name);
        if (k < 0) detail::fail(k, last_error());
        return k;
    }
    /// The words of the last failure on these options, or on a handle made from them.
    std::string_view last_error() const noexcept { return detail::view(ntls_options_last_error(p_)); }

  private:
    Options &check(int rc) {
        if (rc < 0) detail::fail(rc, last_error());
        return *this;
    }
};

/// `tls.createSecureContext(options)`.
class Context : public detail::Handle<ntls_context, detail::ContextUnref> {
  public:
    /// Checks keys, certificates and CAs now; throws with the options' words.
    explicit Context(const Options &opts) {
        int rc = ntls_context_new(opts.get(), &p_);
        if (rc != 0) detail::fail(rc, opts.last_error());
    }
};

inline Options &Options::set_context(const Context &ctx) {
    return check(ntls_options_set_context(p_, NTLS_OPT_SECURE_CONTEXT, ctx.get()));
}

/// A certificate object (`getPeerCertificate()`); its strings live as long as it does. An
/// empty Cert (false) stands for "no certificate".
class Cert : public detail::Handle<ntls_cert, detail::CertUnref> {
  public:
    Cert() noexcept = default;
    explicit Cert(ntls_cert *adopt) noexcept : Handle(adopt) {}

    std::string_view subject() const noexcept { return detail::view(ntls_cert_subject(p_)); }
    std::string_view issuer() const noexcept { return detail::view(ntls_cert_issuer(p_)); }
    std::string_view subjectaltname() const noexcept { return detail::view(ntls_cert_subjectaltname(p_)); }
    std::string_view valid_from() const noexcept { return detail::view(ntls_cert_valid_from(p_)); }
    std::string_view valid_to() const noexcept { return detail::view(ntls_cert_valid_to(p_)); }
    std::string_view fingerprint256() const noexcept { return detail::view(ntls_cert_fingerprint256(p_)); }
    std::string_view serial_number() const noexcept { return detail::view(ntls_cert_serial_number(p_)); }
    /// Node's certificate object as JSON.
    std::string_view to_json() const noexcept { return detail::view(ntls_cert_to_json(p_)); }
    /// The DER bytes (`raw`).
    Bytes der() const noexcept {
        Bytes b;
        if (ntls_cert_der(p_, &b.data, &b.size) != 0) return Bytes();
        return b;
    }
};

// ---- The callbacks' heap object ------------------------------------------------------------

class SocketRef;
class Socket;

namespace detail {
struct SocketTrampolines;

template <class Sig> using Handler = std::shared_ptr<const std::function<Sig>>;

/// What Socket and Server events share: a reference count (the wrappers, and the library
/// from the start until the close event) and the handlers, each swapped under a mutex and
/// called through its own shared_ptr, so that replacing a handler, even the running one
/// and from another thread, never destroys code that runs.
template <class Self> class Shared {
  public:
    void retain() noexcept { refs_.fetch_add(1, std::memory_order_relaxed); }
    void release() noexcept {
        if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete static_cast<Self *>(this);
    }

    template <class Sig> void set(Handler<Sig> &slot, std::function<Sig> &&fn) {
        Handler<Sig> h = fn ? std::make_shared<const std::function<Sig>>(std::move(fn)) : nullptr;
        std::lock_guard<std::mutex> lock(slots_mu_);
        slot.swap(h);
    }  // the old handler goes after the lock (its captures may do anything)

    template <class Sig> Handler<Sig> get(const Handler<Sig> &slot) {
        std::lock_guard<std::mutex> lock(slots_mu_);
        return slot;
    }

    template <class Sig> Handler<Sig> take(Handler<Sig> &slot) { return exchange(slot, Handler<Sig>()); }

    template <class Sig> Handler<Sig> exchange(Handler<Sig> &slot, Handler<Sig> h) {
        std::lock_guard<std::mutex> lock(slots_mu_);
        return std::exchange(slot, std::move(h));
    }

    /// A call that starts the handle (or, with `closes`, ends it): the library's reference
    /// is taken before the call (its first event may run on the loop thread before the call
    /// returns) and given back if the call fails. Held once, whatever the number of starts.
    template <class F> int start(F &&call, bool closes = false) {
        std::lock_guard<std::mutex> lock(start_mu_);
        int rc;
        if (library_holds_) {
            rc = call();
        } else {
            retain();
            rc = call();
            if (rc == 0)
                library_holds_ = true;
            else
                refs_.fetch_sub(1, std::memory_order_relaxed);  // the caller's reference remains
        }
        if (rc == 0 && closes) closing_ = true;
        return rc;
    }

    /// The handle's close event ran: the library's reference ends (the event's caller keeps
    /// the object alive until it returns, so this comes last).
    void library_done() noexcept { drop_library(false); }

    /// A start that failed later (a server's listen that could not bind): the library lets
    /// go unless a close is under way.
    void start_failed() noexcept { drop_library(true); }

  protected:
    Shared() noexcept = default;
    ~Shared() = default;
    /// A handle the library handed out is started: it holds this object until the close.
    void held_by_library() noexcept { library_holds_ = true; }

  private:
    void drop_library(bool unless_closing) noexcept {
        bool held;
        {
            std::lock_guard<std::mutex> lock(start_mu_);
            held = library_holds_ && !(unless_closing && closing_);
            if (held) library_holds_ = false;
        }
        if (held) release();
    }

    std::atomic<int> refs_{1};
    std::mutex slots_mu_;
    std::mutex start_mu_;
    bool library_holds_ = false;  // under start_mu_
    bool closing_ = false;        // under start_mu_
};

struct SocketEvents final : Shared<SocketEvents> {
    Handler<void(SocketRef)> secure_connect, end, drain, timeout;
    Handler<void(SocketRef, const uint8_t *, size_t)> data;
    Handler<void(SocketRef, bool)> close;
    Handler<void(SocketRef, const Error &)> error;

    /// The object of a new socket, and its C callbacks (all but `data`, which starts reading).
    static SocketEvents *attach(ntls_socket *s, bool started);
};

struct ServerEvents final : Shared<ServerEvents> {
    Handler<void(SocketRef)> secure_connection;
    Handler<void(const Error &, SocketRef)> tls_client_error;
    Handler<void()> listening, close, close_done;
    Handler<void(const Error &)> error;
    Handler<void(std::error_code)> listen_done;

    static ServerEvents *attach(ntls_server *srv);
};
}  // namespace detail

// ---- Sockets ------------------------------------------------------------------------------

/// A write's completion: the status is false once the bytes reached the kernel, else the
/// failure (NTLS_ECANCELED for a write still pending when the socket closed).
using WriteCallback = std::function<void(SocketRef, std::error_code)>;

/// What `write` answers.
class WriteResult {
  public:
    explicit WriteResult(int rc) noexcept : rc_(rc) {}
    /// Node's write(): true while under `highWaterMark`; false: wait for `drain`, or failed.
    explicit operator bool() const noexcept { return rc_ > 0; }
    /// Queued, over the high-water mark: wait for the `drain` event.
    bool needs_drain() const noexcept { return rc_ == 0; }
    /// Not queued (NTLS_ECLOSED, or NTLS_EWRITE_AFTER_END once closed): the callback will not run.
    std::error_code error() const noexcept { return make_error_code(rc_); }

  private:
    int rc_;
};

/// A socket that is not owned: the one a callback is given, valid for that call (or a view
/// of a Socket). Everything but keeping it.
class SocketRef {
  public:
    /// A socket the library handed to a callback of yours (nodetls.h's `ntls_socket *`).
    explicit SocketRef(ntls_socket *s) noexcept : s_(s) {}

    ntls_socket *get() const noexcept { return s_; }
    explicit operator bool() const noexcept { return s_ != nullptr; }
    /// A Socket that keeps this socket (ntls_socket_ref) past the callback.
    Socket ref() const;

    // Events (Node's names). Setting `data` starts reading; an empty function unsets it.
    std::error_code on_secure_connect(std::function<void(SocketRef)> fn);
    std::error_code on_data(std::function<void(SocketRef, const uint8_t *, size_t)> fn);
    std::error_code on_end(std::function<void(SocketRef)> fn);
    /// The socket's last event, exactly once: `(socket, had_error)`.
    std::error_code on_close(std::function<void(SocketRef, bool)> fn);
    std::error_code on_error(std::function<void(SocketRef, const Error &)> fn);
    std::error_code on_drain(std::function<void(SocketRef)> fn);
    std::error_code on_timeout(std::function<void(SocketRef)> fn);

    /// Copies the bytes; `done` runs once they reached the kernel (or failed).
    WriteResult write(const void *buf, size_t len, WriteCallback done = {});
    WriteResult write(std::string_view bytes, WriteCallback done = {}) {
        return write(bytes.data(), bytes.size(), std::move(done));
    }
    /// close_notify after queued data, then FIN; twice: NTLS_EALREADY.
    std::error_code end() noexcept { return make_error_code(ntls_socket_end(s_)); }
    /// Close now; pending writes complete with NTLS_ECANCELED, then `close`.
    std::error_code destroy();
    std::error_code pause() noexcept { return make_error_code(ntls_socket_pause(s_)); }
    std::error_code resume() noexcept { return make_error_code(ntls_socket_resume(s_)); }
    std::error_code set_timeout(uint64_t ms) noexcept { return make_error_code(ntls_socket_set_timeout(s_, ms)); }
    std::error_code set_no_delay(bool enable = true) noexcept {
        return make_error_code(ntls_socket_set_no_delay(s_, enable ? 1 : 0));
    }

    bool authorized() const noexcept { return ntls_socket_authorized(s_) != 0; }
    /// Node's code ("CERT_HAS_EXPIRED"); empty when authorized.
    std::string_view authorization_error() const noexcept { return detail::view(ntls_socket_authorization_error(s_)); }
    /// "TLSv1.3", "TLSv1.2"; empty before the handshake and after close.
    std::string_view protocol() const noexcept { return detail::view(ntls_socket_get_protocol(s_)); }
    std::optional<Cipher> cipher() const noexcept {
        const char *name = nullptr, *standard = nullptr, *version = nullptr;
        if (ntls_socket_get_cipher(s_, &name, &standard, &version) != 0) return std::nullopt;
        return Cipher{detail::view(name), detail::view(standard), detail::view(version)};
    }
    std::optional<EphemeralKeyInfo> ephemeral_key_info() const noexcept {
        const char *name = nullptr;
        int size = 0;
        if (ntls_socket_get_ephemeral_key_info(s_, &name, &size) != 0) return std::nullopt;
        return EphemeralKeyInfo{detail::view(name), size};
    }
    /// The agreed ALPN protocol; empty when none (Node's `false`).
    std::string_view alpn_protocol() const noexcept { return detail::view(ntls_socket_alpn_protocol(s_)); }
    std::string_view servername() const noexcept { return detail::view(ntls_socket_servername(s_)); }
    bool is_session_reused() const noexcept { return ntls_socket_is_session_reused(s_) != 0; }
    std::optional<Address> remote_address() const { return address(&ntls_socket_remote_address); }
    std::optional<Address> local_address() const { return address(&ntls_socket_local_address); }
    uint64_t bytes_read() const noexcept { return ntls_socket_bytes_read(s_); }
    uint64_t bytes_written() const noexcept { return ntls_socket_bytes_written(s_); }
    /// `getPeerCertificate(detailed)`; an empty Cert when there is none (`ec`: NTLS_ENOENT, NTLS_ENOTCONN).
    Cert peer_certificate(bool detailed, std::error_code &ec) const noexcept {
        ntls_cert *c = nullptr;
        ec = make_error_code(ntls_socket_get_peer_certificate(s_, detailed ? 1 : 0, &c));
        return Cert(ec ? nullptr : c);
    }
    Cert peer_certificate(bool detailed = false) const noexcept {
        std::error_code ignored;
        return peer_certificate(detailed, ignored);
    }
    /// The words of the last failed call on this socket.
    std::string_view last_error() const noexcept { return detail::view(ntls_socket_last_error(s_)); }

  protected:
    SocketRef(ntls_socket *s, detail::SocketEvents *ev) noexcept : s_(s), ev_(ev) {}
    /// The socket's callback object, made on first use for a socket the library handed out.
    detail::SocketEvents *events() const;

    template <class Sig> std::error_code set(detail::Handler<Sig> detail::SocketEvents::*slot,
                                             std::function<Sig> &&fn);

    ntls_socket *s_ = nullptr;
    mutable detail::SocketEvents *ev_ = nullptr;  // borrowed in a SocketRef, one reference in a Socket

  private:
    using AddressFn = int (*)(const ntls_socket *, char *, size_t, int *, int *);
    std::optional<Address> address(AddressFn fn) const {
        char host[64] = {0};
        Address a;
        if (fn(s_, host, sizeof host, &a.port, &a.family) != 0) return std::nullopt;
        a.host = host;
        return a;
    }

    friend struct detail::SocketTrampolines;
};

/// A socket that owns one reference: `tls.connect` and `new tls.TLSSocket`, or a kept SocketRef.
class Socket : public SocketRef {
  public:
    /// An unstarted socket on the default loop.
    Socket() : Socket(nullptr) {}
    /// An unstarted socket on `loop`.
    explicit Socket(const Loop &loop) : Socket(loop.get()) {}

    Socket(Socket &&o) noexcept : SocketRef(std::exchange(o.s_, nullptr), std::exchange(o.ev_, nullptr)) {}
    Socket &operator=(Socket &&o) noexcept {
        if (this != &o) {
            drop();
            s_ = std::exchange(o.s_, nullptr);
            ev_ = std::exchange(o.ev_, nullptr);
        }
        return *this;
    }
    Socket(const Socket &) = delete;
    Socket &operator=(const Socket &) = delete;
    /// Drops the reference; a started socket goes on until its close event.
    ~Socket() { drop(); }

    /// `tls.connect(options)`: bad options fail here, words in opts.last_error().
    std::error_code connect(const Options &opts) {
        if (!ev_) return make_error_code(NTLS_EINVAL);
        return make_error_code(ev_->start([&] { return ntls_socket_connect(s_, opts.get()); }));
    }
    /// `new tls.TLSSocket(socket, options)` over a connected TCP descriptor, which the socket
    /// then owns (see ntls_socket_wrap_fd).
    std::error_code wrap_fd(int fd, const Options &opts) {
        if (!ev_) return make_error_code(NTLS_EINVAL);
        return make_error_code(ev_->start([&] { return ntls_socket_wrap_fd(s_, fd, opts.get()); }));
    }

  private:
    explicit Socket(ntls_loop *lp) : SocketRef(nullptr, nullptr) {
        int rc = ntls_socket_new(lp, &s_);
        if (rc != 0) detail::fail(rc, "ntls_socket_new");
        try {
            ev_ = detail::SocketEvents::attach(s_, false);
        } catch (...) {  // std::bad_alloc: the half-made socket goes
            ntls_socket_unref(std::exchange(s_, nullptr));
            throw;
        }
    }
    Socket(ntls_socket *s, detail::SocketEvents *ev) noexcept : SocketRef(s, ev) {}
    void drop() noexcept {
        if (ev_) std::exchange(ev_, nullptr)->release();
        if (s_) ntls_socket_unref(std::exchange(s_, nullptr));
    }
    friend class SocketRef;
};

// ---- Server -------------------------------------------------------------------------------

/// `tls.createServer(options)`.
class Server {
  public:
    /// A server on the default loop; keys, certificates and options are checked now and
    /// refused with the options' words.
    explicit Server(const Options &opts) : Server(nullptr, opts) {}
    Server(const Loop &loop, const Options &opts) : Server(loop.get(), opts) {}

    Server(Server &&o) noexcept : srv_(std::exchange(o.srv_, nullptr)), ev_(std::exchange(o.ev_, nullptr)) {}
    Server &operator=(Server &&o) noexcept {
        if (this != &o) {
            drop();
            srv_ = std::exchange(o.srv_, nullptr);
            ev_ = std::exchange(o.ev_, nullptr);
        }
        return *this;
    }
    Server(const Server &) = delete;
    Server &operator=(const Server &) = delete;
    /// Drops the reference; a listening server keeps running (and its callbacks with it)
    /// until close().
    ~Server() { drop(); }

    /// `secureConnection`: the socket is borrowed for the call; s.ref() keeps it.
    std::error_code on_secure_connection(std::function<void(SocketRef)> fn) {
        return set(&detail::ServerEvents::secure_connection, std::move(fn));
    }
    /// `tlsClientError`: a connection failed before it was secure.
    std::error_code on_tls_client_error(std::function<void(const Error &, SocketRef)> fn) {
        return set(&detail::ServerEvents::tls_client_error, std::move(fn));
    }
    std::error_code on_listening(std::function<void()> fn) { return set(&detail::ServerEvents::listening, std::move(fn)); }
    /// `close`: after close(), once every connection has closed.
    std::error_code on_close(std::function<void()> fn) { return set(&detail::ServerEvents::close, std::move(fn)); }
    /// `error`: EADDRINUSE and other listen failures.
    std::error_code on_error(std::function<void(const Error &)> fn) { return set(&detail::ServerEvents::error, std::move(fn)); }

    /// `server.listen(port, host, cb)`: port 0 picks a free port, a NULL host means every
    /// address. `done` gets the outcome (false once listening).
    std::error_code listen(const char *host, int port, std::function<void(std::error_code)> done = {});
    /// `server.close(cb)`: stops accepting; `close` and `done` run once every connection has
    /// closed. Twice: NTLS_EALREADY.
    std::error_code close(std::function<void()> done = {});

    /// `server.address()`; none before listening.
    std::optional<Address> address() const {
        char host[64] = {0};
        Address a;
        if (ntls_server_address(srv_, host, sizeof host, &a.port, &a.family) != 0) return std::nullopt;
        a.host = host;
        return a;
    }
    /// `server.connections`.
    int connections() const noexcept { return ntls_server_connections(srv_); }
    /// `server.addContext(hostname, context)`.
    std::error_code add_context(const char *hostname, const Context &ctx) noexcept {
        return make_error_code(ntls_server_add_context(srv_, hostname, ctx.get()));
    }
    /// `getTicketKeys()`: 48 bytes.
    std::error_code get_ticket_keys(uint8_t *out, size_t len) const noexcept {
        return make_error_code(ntls_server_get_ticket_keys(srv_, out, len));
    }
    /// `setTicketKeys(keys)`: exactly 48 bytes.
    std::error_code set_ticket_keys(const uint8_t *keys, size_t len) noexcept {
        return make_error_code(ntls_server_set_ticket_keys(srv_, keys, len));
    }

    ntls_server *get() const noexcept { return srv_; }
    explicit operator bool() const noexcept { return srv_ != nullptr; }

  private:
    Server(ntls_loop *lp, const Options &opts) {
        int rc = ntls_server_new(lp, opts.get(), &srv_);
        if (rc != 0) detail::fail(rc, opts.last_error());
        try {
            ev_ = detail::ServerEvents::attach(srv_);
        } catch (...) {
            ntls_server_unref(std::exchange(srv_, nullptr));
            throw;
        }
    }
    template <class Sig> std::error_code set(detail::Handler<Sig> detail::ServerEvents::*slot,
                                             std::function<Sig> &&fn) {
        if (!ev_) return make_error_code(NTLS_EINVAL);
        ev_->set(ev_->*slot, std::move(fn));
        return std::error_code();
    }
    void drop() noexcept {
        if (ev_) std::exchange(ev_, nullptr)->release();
        if (srv_) ntls_server_unref(std::exchange(srv_, nullptr));
    }

    ntls_server *srv_ = nullptr;
    detail::ServerEvents *ev_ = nullptr;
};

// ---- The C callbacks -----------------------------------------------------------------------

namespace detail {
// Each one finds its handler through the `data` pointer, the heap object above, and calls it
// through its own reference, so the handler may replace itself. noexcept: an exception stops
// here (std::terminate) rather than unwinding into the library.

struct SocketTrampolines {
    static SocketRef ref(ntls_socket *s, void *data) noexcept {
        return SocketRef(s, static_cast<SocketEvents *>(data));
    }
    static void secure_connect(ntls_socket *s, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->secure_connect)) (*f)(ref(s, data));
    }
    static void on_data(ntls_socket *s, const uint8_t *buf, size_t len, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->data)) (*f)(ref(s, data), buf, len);
    }
    static void end(ntls_socket *s, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->end)) (*f)(ref(s, data));
    }
    static void drain(ntls_socket *s, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->drain)) (*f)(ref(s, data));
    }
    static void timeout(ntls_socket *s, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->timeout)) (*f)(ref(s, data));
    }
    static void error(ntls_socket *s, const ntls_error *err, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->error)) (*f)(ref(s, data), Error(err));
    }
    static void close(ntls_socket *s, int had_error, void *data) noexcept {
        auto *ev = static_cast<SocketEvents *>(data);
        if (auto f = ev->get(ev->close)) (*f)(ref(s, data), had_error != 0);
        ev->library_done();  // the last event: the library's reference ends
    }
    static void write_done(ntls_socket *s, int status, void *arg) noexcept {
        std::unique_ptr<WriteCallback> fn(static_cast<WriteCallback *>(arg));
        (*fn)(SocketRef(s), make_error_code(status));
    }
};

inline SocketEvents *SocketEvents::attach(ntls_socket *s, bool started) {
    auto *ev = new SocketEvents();
    if (started) ev->held_by_library();
    ntls_socket_set_data(s, ev);
    ntls_socket_on_secure_connect(s, &SocketTrampolines::secure_connect);
    ntls_socket_on_end(s, &SocketTrampolines::end);
    ntls_socket_on_close(s, &SocketTrampolines::close);
    ntls_socket_on_error(s, &SocketTrampolines::error);
    ntls_socket_on_drain(s, &SocketTrampolines::drain);
    ntls_socket_on_timeout(s, &SocketTrampolines::timeout);
    return ev;
}

struct ServerTrampolines {
    static void secure_connection(ntls_server *, ntls_socket *s, void *data) noexcept {
        auto *ev = static_cast<ServerEvents *>(data);
        if (auto f = ev->get(ev->secure_connection)) (*f)(SocketRef(s));
    }
    static void tls_client_error(ntls_server *, const ntls_error *err, ntls_socket *s, void *data) noexcept {
        auto *ev = static_cast<ServerEvents *>(data);
        if (auto f = ev->get(ev->tls_client_error)) (*f)(Error(err), SocketRef(s));
    }
    static void listening(ntls_server *, void *data) noexcept {
        auto *ev = static_cast<ServerEvents *>(data);
        if (auto f = ev->get(ev->listening)) (*f)();
    }
    static void error(ntls_server *, const ntls_error *err, void *data) noexcept {
        auto *ev = static_cast<ServerEvents *>(data);
        if (auto f = ev->get(ev->error)) (*f)(Error(err));
    }
    static void listen_done(ntls_server *, int status, void *data) noexcept {
        auto *ev = static_cast<ServerEvents *>(data);
        if (auto f = ev->take(ev->listen_done)) (*f)(make_error_code(status));
        if (status != 0) ev->start_failed();  // back to unstarted: no close event will come
    }
    static void close(ntls_server *, void *data) noexcept {
        auto *ev = static_cast<ServerEvents *>(data);
        if (auto f = ev->get(ev->close)) (*f)();
        if (auto f = ev->take(ev->close_done)) (*f)();
        ev->library_done();
    }
};

inline ServerEvents *ServerEvents::attach(ntls_server *srv) {
    auto *ev = new ServerEvents();
    ntls_server_set_data(srv, ev);
    ntls_server_on_secure_connection(srv, &ServerTrampolines::secure_connection);
    ntls_server_on_tls_client_error(srv, &ServerTrampolines::tls_client_error);
    ntls_server_on_listening(srv, &ServerTrampolines::listening);
    ntls_server_on_close(srv, &ServerTrampolines::close);
    ntls_server_on_error(srv, &ServerTrampolines::error);
    return ev;
}
}  // namespace detail

inline detail::SocketEvents *SocketRef::events() const {
    if (!ev_ && s_) {
        // Ours if set (a Socket made it, or an earlier callback); else a socket the library
        // handed out, started by definition: the library holds the new object until close.
        void *data = ntls_socket_get_data(s_);
        ev_ = data ? static_cast<detail::SocketEvents *>(data) : detail::SocketEvents::attach(s_, true);
    }
    return ev_;
}

template <class Sig>
std::error_code SocketRef::set(detail::Handler<Sig> detail::SocketEvents::*slot, std::function<Sig> &&fn) {
    detail::SocketEvents *ev = events();
    if (!ev) return make_error_code(NTLS_EINVAL);
    ev->set(ev->*slot, std::move(fn));
    // attach() installed the C callbacks; setting the same data again costs nothing and
    // answers as the C setters do (NTLS_ECLOSED once the socket has closed).
    return make_error_code(ntls_socket_set_data(s_, ev));
}

inline Socket SocketRef::ref() const {
    detail::SocketEvents *ev = events();
    if (!ev) return Socket(nullptr, nullptr);
    ntls_socket_ref(s_);
    ev->retain();
    return Socket(s_, ev);
}

inline std::error_code SocketRef::on_secure_connect(std::function<void(SocketRef)> fn) {
    return set(&detail::SocketEvents::secure_connect, std::move(fn));
}
inline std::error_code SocketRef::on_data(std::function<void(SocketRef, const uint8_t *, size_t)> fn) {
    bool reading = static_cast<bool>(fn);
    std::error_code ec = set(&detail::SocketEvents::data, std::move(fn));
    if (ec) return ec;
    return make_error_code(ntls_socket_on_data(s_, reading ? &detail::SocketTrampolines::on_data : nullptr));
}
inline std::error_code SocketRef::on_end(std::function<void(SocketRef)> fn) {
    return set(&detail::SocketEvents::end, std::move(fn));
}
inline std::error_code SocketRef::on_close(std::function<void(SocketRef, bool)> fn) {
    return set(&detail::SocketEvents::close, std::move(fn));
}
inline std::error_code SocketRef::on_error(std::function<void(SocketRef, const Error &)> fn) {
    return set(&detail::SocketEvents::error, std::move(fn));
}
inline std::error_code SocketRef::on_drain(std::function<void(SocketRef)> fn) {
    return set(&detail::SocketEvents::drain, std::move(fn));
}
inline std::error_code SocketRef::on_timeout(std::function<void(SocketRef)> fn) {
    return set(&detail::SocketEvents::timeout, std::move(fn));
}

inline WriteResult SocketRef::write(const void *buf, size_t len, WriteCallback done) {
    if (!done) return WriteResult(ntls_socket_write(s_, buf, len, nullptr, nullptr));
    auto *heap = new WriteCallback(std::move(done));
    int rc = ntls_socket_write(s_, buf, len, &detail::SocketTrampolines::write_done, heap);
    if (rc < 0) delete heap;  // a failed call never calls its callback
    return WriteResult(rc);
}

inline std::error_code SocketRef::destroy() {
    // On an unstarted socket destroy() is the start of its close: the library then holds
    // the callbacks until the close event (a handed-out socket's object is held already).
    if (ev_) return make_error_code(ev_->start([&] { return ntls_socket_destroy(s_); }, true));
    return make_error_code(ntls_socket_destroy(s_));
}

inline std::error_code Server::listen(const char *host, int port, std::function<void(std::error_code)> done) {
    if (!ev_) return make_error_code(NTLS_EINVAL);
    // Set before the call, since the outcome may arrive before it returns; a refused call
    // (NTLS_EALREADY: listening already) puts back the one of the call that is under way.
    using Done = std::function<void(std::error_code)>;
    auto previous = ev_->exchange(ev_->listen_done, done ? std::make_shared<const Done>(std::move(done)) : nullptr);
    int rc = ev_->start([&] { return ntls_server_listen(srv_, host, port, &detail::ServerTrampolines::listen_done); });
    if (rc != 0) ev_->exchange(ev_->listen_done, std::move(previous));
    return make_error_code(rc);
}

inline std::error_code Server::close(std::function<void()> done) {
    if (!ev_) return make_error_code(NTLS_EINVAL);
    // `done` runs from the close event's own callback, before the library lets go of ev_.
    using Done = std::function<void()>;
    auto previous = ev_->exchange(ev_->close_done, done ? std::make_shared<const Done>(std::move(done)) : nullptr);
    int rc = ev_->start([&] { return ntls_server_close(srv_, nullptr); }, true);
    if (rc != 0) ev_->exchange(ev_->close_done, std::move(previous));
    return make_error_code(rc);
}

}  // namespace nodetls

#endif  // NTLS_NODETLS_HPP
