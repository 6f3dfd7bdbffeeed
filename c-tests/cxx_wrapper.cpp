// nodetls.hpp's own rules: error codes and exceptions, the callbacks' heap object freed after
// the close event or with an unstarted handle, borrowed and kept sockets, handlers replaced
// while they run, write callbacks, moved-from handles, Loop::call. Run under valgrind too
// (memcheck_cxx_wrapper): nothing may leak or be touched after it is freed.
#include "nodetls.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>

namespace {

#define CHECK(cond)                                                                 \
    do {                                                                            \
        if (!(cond)) {                                                              \
            std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
            std::exit(1);                                                           \
        }                                                                           \
    } while (0)

template <class F> void wait_for(F done, const char *what, int ms = 10000) {
    for (int i = 0; i < ms && !done(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    if (!done()) {
        std::fprintf(stderr, "timed out waiting for %s\n", what);
        std::exit(1);
    }
}

std::string cert_file(const char *name) {
    std::ifstream f(std::string(NODETLS_CERTS) + "/" + name, std::ios::binary);
    CHECK(f);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

// NTLS_EALREADY (end/destroy/close twice): errno's EALREADY, std::errc::connection_already_in_progress.
std::error_code ealready() { return nodetls::make_error_code(NTLS_EALREADY); }

nodetls::Options server_options() {
    nodetls::Options o;
    o.add_bytes(NTLS_OPT_KEY, cert_file("server-ec-key.pem")).add_bytes(NTLS_OPT_CERT, cert_file("server-ec-cert.pem"));
    return o;
}

nodetls::Options client_options(int port) {
    nodetls::Options o;
    o.add_bytes(NTLS_OPT_CA, cert_file("ca-cert.pem")).set_int(NTLS_OPT_PORT, port);
    return o;
}

int closed_port() {
    nodetls::Options o = server_options();
    nodetls::Server probe(o);
    std::atomic<int> port{0};
    CHECK(!probe.listen("127.0.0.1", 0, [&](std::error_code ec) {
        CHECK(!ec);
        port = 1;
    }));
    wait_for([&] { return port.load() != 0; }, "probe listening");
    int p = probe.address()->port;
    std::atomic<bool> closed{false};
    probe.close([&] { closed = true; });
    wait_for([&] { return closed.load(); }, "probe closed");
    return p;
}

void errors() {
    std::error_code ec = nodetls::make_error_code(NTLS_ECONNREFUSED);
    CHECK(ec == std::errc::connection_refused);
    CHECK(ec.message() == ntls_strerror(NTLS_ECONNREFUSED));
    CHECK(std::string(nodetls::err_name(ec)) == "ECONNREFUSED");
    CHECK(nodetls::make_error_code(NTLS_ECLOSED) != std::errc::connection_refused);
    CHECK(!nodetls::make_error_code(0) && !nodetls::make_error_code(1));
    auto ciphers = nodetls::get_ciphers();
    CHECK(!ciphers.empty() && static_cast<int>(ciphers.size()) == ntls_get_ciphers(nullptr, 0));

    bool thrown = false;
    try {
        nodetls::Options o;
        o.set_string(NTLS_OPT_PORT, "443");  // an int option
    } catch (const nodetls::error &e) {
        thrown = e.code() == std::errc::invalid_argument && std::string(e.what()).find("port") != std::string::npos;
    }
    CHECK(thrown);
    thrown = false;
    try {
        nodetls::Options o;
        o.add_bytes(NTLS_OPT_KEY, cert_file("other-key.pem")).add_bytes(NTLS_OPT_CERT, cert_file("server-ec-cert.pem"));
        nodetls::Context ctx(o);
    } catch (const nodetls::error &e) {
        thrown = std::string(e.what()).find("match") != std::string::npos;
    }
    CHECK(thrown);
    thrown = false;
    try {
        nodetls::Options o;
        o.key("rejectUnauthorised");
    } catch (const nodetls::error &e) {
        thrown = std::string(e.what()).find("rejectUnauthorised") != std::string::npos;
    }
    CHECK(thrown);
}

void unstarted_handles() {
    // Dropped before any start: the callbacks go with the wrapper (valgrind: no leak).
    {
        nodetls::Socket s;
        s.on_data([](nodetls::SocketRef, const uint8_t *, size_t) {});
        s.on_close([](nodetls::SocketRef, bool) {});
        nodetls::Options o = server_options();
        nodetls::Server srv(o);
        srv.on_secure_connection([](nodetls::SocketRef) {});
    }
    // destroy() before the start is one: close still fires, after the wrapper is gone.
    std::atomic<int> closes{0};
    {
        nodetls::Socket s;
        s.on_close([&closes](nodetls::SocketRef, bool had_error) { closes += had_error ? 100 : 1; });
        CHECK(!s.destroy());
        CHECK(s.destroy() == ealready());  // NTLS_EALREADY
    }
    wait_for([&] { return closes.load() == 1; }, "close of a destroyed unstarted socket");
    // A never-listened server's close() fires close and its callback.
    std::atomic<int> server_closes{0};
    {
        nodetls::Options o = server_options();
        nodetls::Server srv(o);
        srv.on_close([&] { server_closes += 1; });
        CHECK(!srv.close([&] { server_closes += 10; }));
        CHECK(srv.close() == ealready());
    }
    wait_for([&] { return server_closes.load() == 11; }, "close of an unstarted server");
    // Moved-from handles answer as NULL does.
    nodetls::Socket a;
    nodetls::Socket b = std::move(a);
    CHECK(a.end() == std::errc::invalid_argument);
    CHECK(a.on_data([](nodetls::SocketRef, const uint8_t *, size_t) {}) == std::errc::invalid_argument);
    CHECK(b.get() != nullptr && a.get() == nullptr);
    nodetls::Options o;
    CHECK(a.connect(o) == std::errc::invalid_argument);
}

void refused() {
    int port = closed_port();
    std::atomic<bool> closed{false}, had_error{false};
    std::string code;
    std::error_code status;
    nodetls::Socket s;
    s.on_error([&](nodetls::SocketRef, const nodetls::Error &err) {
        code = std::string(err.code());
        status = err.status();
    });
    s.on_close([&](nodetls::SocketRef, bool e) {
        had_error = e;
        closed = true;
    });
    nodetls::Options o = client_options(port);
    o.set_string(NTLS_OPT_HOST, "127.0.0.1");
    CHECK(!s.connect(o));
    std::error_code again = s.connect(o);  // EALREADY, or ECLOSED once the refusal has closed it
    CHECK(again == ealready() || again == nodetls::make_error_code(NTLS_ECLOSED));
    wait_for([&] { return closed.load(); }, "ECONNREFUSED close");
    CHECK(had_error && code == "ECONNREFUSED" && status == std::errc::connection_refused);
}

void echo() {
    nodetls::Loop loop;
    nodetls::Options so = server_options();
    nodetls::Server srv(loop, so);
    std::map<ntls_socket *, nodetls::Socket> kept;  // loop thread only
    std::atomic<int> server_sockets_closed{0}, replaced{0};
    std::thread::id loop_thread;  // set and read on the loop's thread
    srv.on_secure_connection([&](nodetls::SocketRef s) {
        // The first data handler replaces itself, while it runs, with a plain echo.
        s.on_data([&replaced](nodetls::SocketRef sock, const uint8_t *buf, size_t len) {
            std::string keep = "first";  // state of the running handler, used after the swap
            sock.on_data([](nodetls::SocketRef again, const uint8_t *b, size_t n) { again.write(b, n); });
            replaced += static_cast<int>(keep.size());
            sock.write(buf, len);
        });
        s.on_close([&](nodetls::SocketRef sock, bool) {
            kept.erase(sock.get());  // the last wrapper goes inside the close event
            server_sockets_closed++;
        });
        kept.emplace(s.get(), s.ref());
    });

    // listen twice at once: the second is refused and the first still gets its answer.
    std::atomic<int> listened{0};
    CHECK(!srv.listen("127.0.0.1", 0, [&](std::error_code ec) {
        loop_thread = std::this_thread::get_id();
        listened = ec ? -1 : 1;
    }));
    CHECK(srv.listen("127.0.0.1", 0, [&](std::error_code) { listened = -2; }) ==
          ealready());
    wait_for([&] { return listened.load() != 0; }, "listening");
    CHECK(listened.load() == 1);
    int port = srv.address()->port;

    // A second server on the same port: EADDRINUSE as an error event and listen's answer.
    {
        nodetls::Options o = server_options();
        nodetls::Server clash(loop, o);
        std::atomic<int> answers{0};
        clash.on_error([&](const nodetls::Error &err) { answers += err.code() == "EADDRINUSE" ? 1 : 100; });
        CHECK(!clash.listen("127.0.0.1", port, [&](std::error_code ec) {
            answers += ec == std::errc::address_in_use ? 10 : 1000;
        }));
        wait_for([&] { return answers.load() == 11; }, "EADDRINUSE");
    }  // dropped after a failed listen: nothing left behind (valgrind)

    std::atomic<bool> ran{false};
    CHECK(!loop.call([&] { ran = std::this_thread::get_id() == loop_thread; }));
    wait_for([&] { return ran.load(); }, "Loop::call");

    // The client side on the default loop, kept in a vector: moves keep the callbacks.
    std::vector<nodetls::Socket> clients;
    std::mutex mu;
    std::string echoed, subject;
    std::atomic<int> writes_done{0}, write_errors{0}, late_errors{0};
    std::atomic<bool> client_closed{false}, client_had_error{true};
    {
        nodetls::Socket c;
        c.on_secure_connect([&](nodetls::SocketRef s) {
            if (nodetls::Cert cert = s.peer_certificate()) {
                nodetls::Cert moved = std::move(cert);
                std::lock_guard<std::mutex> lock(mu);
                subject = std::string(moved.subject());
            }
            CHECK(s.authorized() && s.protocol() == "TLSv1.3" && s.remote_address()->port == port);
            s.write("one ", [&](nodetls::SocketRef, std::error_code ec) { (ec ? write_errors : writes_done)++; });
            s.write(std::string_view("two"), [&](nodetls::SocketRef, std::error_code ec) {
                (ec ? write_errors : writes_done)++;
            });
        });
        c.on_data([&](nodetls::SocketRef s, const uint8_t *buf, size_t len) {
            std::lock_guard<std::mutex> lock(mu);
            echoed.append(reinterpret_cast<const char *>(buf), len);
            if (echoed == "one two") {
                CHECK(!s.end());
                // Node's write after end: taken (false), then its callback and an error event
                // get ERR_STREAM_WRITE_AFTER_END and the socket closes with an error.
                auto r = s.write("late", [&](nodetls::SocketRef, std::error_code ec) {
                    CHECK(ec.value() == NTLS_EWRITE_AFTER_END);
                    late_errors++;
                });
                CHECK(!r.error() && r.needs_drain());
            }
        });
        c.on_close([&](nodetls::SocketRef, bool had_error) {
            client_had_error = had_error;
            client_closed = true;
        });
        nodetls::Options co = client_options(port);
        CHECK(!c.connect(co));
        clients.push_back(std::move(c));
    }
    wait_for([&] { return client_closed.load(); }, "client close");
    CHECK(client_had_error.load());  // the write after end destroyed it, as in Node
    CHECK(late_errors.load() == 1);
    CHECK(writes_done.load() == 2 && write_errors.load() == 0);
    CHECK(echoed == "one two");
    CHECK(subject.find("CN=localhost") != std::string::npos);
    CHECK(replaced.load() == 5);
    CHECK(clients.front().protocol().empty());  // after close: none, as Node's getProtocol()
    CHECK(clients.front().end() == ealready());
    wait_for([&] { return server_sockets_closed.load() == 1; }, "server socket close");

    std::atomic<int> order{0};
    srv.on_close([&] { order = order * 10 + 1; });
    CHECK(!srv.close([&] { order = order * 10 + 2; }));
    wait_for([&] { return order.load() == 12; }, "server close, then close's callback");
    CHECK(kept.empty());
    clients.clear();
}

}  // namespace

int main() {
    errors();
    unstarted_handles();
    refused();
    echo();
    std::printf("nodetls.hpp: ok (%s)\n", std::string(nodetls::version()).c_str());
    return 0;
}
