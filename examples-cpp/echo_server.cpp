// nodetls-cpp-echo-server: a TLS echo server on nodetls.hpp.
//
//   nodetls-cpp-echo-server --port P --key KEY.pem --cert CERT.pem [--host H] [--verbose]
//
// Prints "listening on HOST:PORT", echoes every byte (pausing while the peer reads slower
// than it writes), and on SIGTERM/SIGINT closes: the server stops accepting, open
// connections are ended, and the program waits for the server's close event.
#include "nodetls.hpp"

#include <pthread.h>
#include <signal.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <mutex>
#include <sstream>
#include <string>
#include <unordered_map>

namespace {

std::string slurp(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::cerr << "nodetls-cpp-echo-server: cannot open " << path << "\n";
        std::exit(2);
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

[[noreturn]] void usage() {
    std::cerr << "usage: nodetls-cpp-echo-server --port P --key KEY.pem --cert CERT.pem [--host H] [--verbose]\n";
    std::exit(2);
}

// Set once, read by the main thread: a tiny one-shot event.
class Latch {
  public:
    void set() {
        std::lock_guard<std::mutex> lock(mu_);
        done_ = true;
        cv_.notify_all();
    }
    bool wait_for(std::chrono::milliseconds ms) {
        std::unique_lock<std::mutex> lock(mu_);
        return cv_.wait_for(lock, ms, [this] { return done_; });
    }

  private:
    std::mutex mu_;
    std::condition_variable cv_;
    bool done_ = false;
};

}  // namespace

int main(int argc, char **argv) {
    std::string host = "127.0.0.1", key, cert;
    int port = -1;
    bool verbose = false;
    for (int i = 1; i < argc; i++) {
        std::string a = argv[i];
        bool has_value = i + 1 < argc;
        if (a == "--port" && has_value) port = std::atoi(argv[++i]);
        else if (a == "--key" && has_value) key = argv[++i];
        else if (a == "--cert" && has_value) cert = argv[++i];
        else if (a == "--host" && has_value) host = argv[++i];
        else if (a == "--verbose") verbose = true;
        else usage();
    }
    if (port < 0 || port > 65535 || key.empty() || cert.empty()) usage();

    // Signals go to sigwait below; the loop's thread inherits the blocked mask.
    sigset_t sigs;
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, nullptr);

    try {
        nodetls::Loop loop;
        nodetls::Options opts;
        opts.add_bytes(NTLS_OPT_KEY, slurp(key)).add_bytes(NTLS_OPT_CERT, slurp(cert));
        nodetls::Server server(loop, opts);  // throws with the words: "key does not match certificate"

        // The connections, kept (s.ref()) until their close event; touched only on the loop's
        // thread, where every callback runs, so no lock is needed.
        std::unordered_map<ntls_socket *, nodetls::Socket> open;

        server.on_secure_connection([&](nodetls::SocketRef s) {
            if (verbose) {
                auto cipher = s.cipher();
                std::cerr << "secure: " << s.protocol() << " " << (cipher ? cipher->name : "?") << "\n";
            }
            s.on_data([](nodetls::SocketRef sock, const uint8_t *buf, size_t len) {
                if (!sock.write(buf, len)) sock.pause();  // over the high-water mark: wait for drain
            });
            s.on_drain([](nodetls::SocketRef sock) { sock.resume(); });
            s.on_error([verbose](nodetls::SocketRef, const nodetls::Error &err) {
                if (verbose) std::cerr << "socket error: " << err.code() << ": " << err.message() << "\n";
            });
            s.on_close([&open](nodetls::SocketRef sock, bool) { open.erase(sock.get()); });
            open.emplace(s.get(), s.ref());
        });
        server.on_tls_client_error([verbose](const nodetls::Error &err, nodetls::SocketRef) {
            if (verbose) std::cerr << "tlsClientError: " << err.code() << ": " << err.message() << "\n";
        });

        Latch listening, closed;
        std::error_code listen_status;
        std::error_code ec = server.listen(host.c_str(), port, [&](std::error_code status) {
            listen_status = status;
            listening.set();
        });
        if (ec || !listening.wait_for(std::chrono::seconds(10)) || listen_status) {
            if (!ec) ec = listen_status;
            std::cerr << "nodetls-cpp-echo-server: listen: " << (ec ? ec.message() : "timed out") << "\n";
            return 1;
        }
        std::cout << "listening on " << host << ":" << server.address()->port << std::endl;

        int sig = 0;
        sigwait(&sigs, &sig);
        server.close([&closed] { closed.set(); });
        // The server's close waits for its connections: end them, on the loop's thread.
        loop.call([&open] {
            for (auto &entry : open) entry.second.end();
        });
        if (!closed.wait_for(std::chrono::seconds(5))) {
            std::cerr << "nodetls-cpp-echo-server: connections still open after 5 s\n";
            return 1;
        }
        return 0;
    } catch (const nodetls::error &e) {
        std::cerr << "nodetls-cpp-echo-server: " << e.what() << " (" << nodetls::err_name(e.code()) << ")\n";
        return 2;
    }
}
