// nodetls-cpp-client: connects, prints the handshake's facts, sends a message, prints the echo.
//
//   nodetls-cpp-client --host H --port P [--ca CA.pem] [--servername N] [--insecure]
//                      [--message TEXT]
//
// Exits 0 once the whole message came back and the connection closed cleanly; on failure
// prints the error's Node code and message and exits 1.
#include "nodetls.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <future>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>

namespace {

std::string slurp(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    if (!f) {
        std::cerr << "nodetls-cpp-client: cannot open " << path << "\n";
        std::exit(2);
    }
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

[[noreturn]] void usage() {
    std::cerr << "usage: nodetls-cpp-client --host H --port P [--ca CA.pem] [--servername N] [--insecure]"
                 " [--message TEXT]\n";
    std::exit(2);
}

}  // namespace

int main(int argc, char **argv) {
    std::string message = "hello from nodetls.hpp";
    try {
        nodetls::Options opts;
        for (int i = 1; i < argc; i++) {
            std::string a = argv[i];
            bool has_value = i + 1 < argc;
            if (a == "--host" && has_value) opts.set_string(NTLS_OPT_HOST, argv[++i]);
            else if (a == "--port" && has_value) opts.set_int(NTLS_OPT_PORT, std::atoi(argv[++i]));
            else if (a == "--ca" && has_value) opts.add_bytes(NTLS_OPT_CA, slurp(argv[++i]));
            else if (a == "--servername" && has_value) opts.set_string(NTLS_OPT_SERVERNAME, argv[++i]);
            else if (a == "--insecure") opts.set_bool(NTLS_OPT_REJECT_UNAUTHORIZED, false);
            else if (a == "--message" && has_value) message = argv[++i];
            else usage();
        }

        // The callbacks run on the default loop's thread and share this state with main, which
        // waits for the close. Held by the callbacks too, so it outlives a late event.
        struct State {
            std::string message, echoed, failure;
            size_t written = 0;
            std::promise<bool> closed;  // had_error
        };
        auto st = std::make_shared<State>();
        st->message = message;
        nodetls::Socket socket;

        socket.on_secure_connect([st](nodetls::SocketRef s) {
            auto cipher = s.cipher();
            std::cout << "protocol:      " << s.protocol() << "\n";
            if (cipher) std::cout << "cipher:        " << cipher->name << " (" << cipher->standard_name << ")\n";
            if (auto cert = s.peer_certificate()) {
                std::cout << "peer subject:  " << cert.subject() << "\n";
                std::cout << "peer altnames: " << cert.subjectaltname() << "\n";
                std::cout << "peer valid to: " << cert.valid_to() << "\n";
            }
            std::cout << "authorized:    " << (s.authorized() ? "yes" : "no");
            if (!s.authorization_error().empty()) std::cout << " - " << s.authorization_error();
            std::cout << "\n";
            auto result = s.write(st->message, [st](nodetls::SocketRef, std::error_code ec) {
                if (!ec) st->written = st->message.size();  // handed to the kernel
            });
            if (result.error()) st->failure = "write: " + result.error().message();
        });
        socket.on_data([st](nodetls::SocketRef s, const uint8_t *buf, size_t len) {
            st->echoed.append(reinterpret_cast<const char *>(buf), len);
            if (st->echoed.size() >= st->message.size()) s.end();
        });
        socket.on_error([st](nodetls::SocketRef, const nodetls::Error &err) {
            st->failure = std::string(err.code()) + ": " + std::string(err.message());
        });
        socket.on_close([st](nodetls::SocketRef, bool had_error) { st->closed.set_value(had_error); });

        if (std::error_code ec = socket.connect(opts)) {
            std::cerr << "connect: " << opts.last_error() << " (" << nodetls::err_name(ec) << ")\n";
            return 1;
        }
        auto done = st->closed.get_future();
        if (done.wait_for(std::chrono::seconds(30)) != std::future_status::ready) {
            std::cerr << "error: ETIMEDOUT: no close within 30 s\n";
            socket.destroy();
            return 1;
        }
        bool had_error = done.get();
        std::cout << "echo:          " << st->echoed << "\n";
        if (!st->failure.empty() || had_error) {
            std::cerr << "error: " << (st->failure.empty() ? "closed with an error" : st->failure) << "\n";
            return 1;
        }
        if (st->echoed != message || st->written != message.size()) {
            std::cerr << "error: " << st->echoed.size() << " of " << message.size() << " bytes echoed\n";
            return 1;
        }
        return 0;
    } catch (const nodetls::error &e) {
        std::cerr << "nodetls-cpp-client: " << e.what() << " (" << nodetls::err_name(e.code()) << ")\n";
        return 2;
    }
}
