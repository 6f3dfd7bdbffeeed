// The header from C++17, and a small echo through the library, driven from C++.
#include "nodetls.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>

namespace {

std::string slurp(const std::string &path) {
    std::ifstream f(path, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
}

struct State {
    std::atomic<int> port{0};
    std::atomic<bool> closed{false};
    std::string echoed;
};

State state;

template <typename F> bool wait_for(F done, int ms) {
    for (int i = 0; i < ms && !done(); i++) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    return done();
}

}  // namespace

int main() {
    const std::string dir = NODETLS_CERTS;
    const std::string key = slurp(dir + "/server-ec-key.pem"), cert = slurp(dir + "/server-ec-cert.pem"),
                      ca = slurp(dir + "/ca-cert.pem");
    ntls_options *so = nullptr;
    ntls_options_new(&so);
    ntls_options_add_bytes(so, NTLS_OPT_KEY, reinterpret_cast<const uint8_t *>(key.data()), key.size());
    ntls_options_add_bytes(so, NTLS_OPT_CERT, reinterpret_cast<const uint8_t *>(cert.data()), cert.size());
    ntls_server *srv = nullptr;
    if (ntls_server_new(nullptr, so, &srv) != 0) return 1;
    ntls_server_on_secure_connection(srv, [](ntls_server *, ntls_socket *s, void *) {
        ntls_socket_on_data(s, [](ntls_socket *sock, const uint8_t *buf, size_t len, void *) {
            ntls_socket_write(sock, buf, len, nullptr, nullptr);
        });
    });
    ntls_server_listen(srv, "127.0.0.1", 0, [](ntls_server *server, int status, void *) {
        int port = 0;
        if (status == 0) ntls_server_address(server, nullptr, 0, &port, nullptr);
        state.port = port;
    });
    if (!wait_for([] { return state.port.load() != 0; }, 5000)) return 2;

    ntls_options *co = nullptr;
    ntls_options_new(&co);
    ntls_options_add_bytes(co, NTLS_OPT_CA, reinterpret_cast<const uint8_t *>(ca.data()), ca.size());
    ntls_options_set_int(co, NTLS_OPT_PORT, state.port);
    ntls_socket *s = nullptr;
    ntls_socket_new(nullptr, &s);
    ntls_socket_on_secure_connect(s, [](ntls_socket *sock, void *) { ntls_socket_write(sock, "c++", 3, nullptr, nullptr); });
    ntls_socket_on_data(s, [](ntls_socket *sock, const uint8_t *buf, size_t len, void *) {
        state.echoed.append(reinterpret_cast<const char *>(buf), len);
        if (state.echoed.size() == 3) ntls_socket_end(sock);
    });
    ntls_socket_on_close(s, [](ntls_socket *, int, void *) { state.closed = true; });
    if (ntls_socket_connect(s, co) != 0) return 3;
    if (!wait_for([] { return state.closed.load(); }, 10000)) return 4;
    std::printf("echoed from C++: %s\n", state.echoed.c_str());
    ntls_socket_unref(s);
    ntls_server_close(srv, nullptr);
    ntls_server_unref(srv);
    ntls_options_unref(so);
    ntls_options_unref(co);
    return state.echoed == "c++" ? 0 : 5;
}
