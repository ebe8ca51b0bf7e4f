// A redis-server for unit tests that run the live script for real: started on a free loopback
// port without persistence, and a tiny blocking RESP client. Tests skip when
// /usr/bin/redis-server is not installed.
#pragma once

#include <fcntl.h>
#include <sys/prctl.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <random>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace tailor {

inline constexpr const char* kRedisServer = "/usr/bin/redis-server";

// A RESP reply: simple string, error, integer, bulk (nil when `nil`), array.
struct Reply {
    char kind = 0;  // '+', '-', ':', '$', '*'
    bool nil = false;
    std::string str;
    long long integer = 0;
    std::vector<Reply> elements;
};

class Resp {
  public:
    explicit Resp(int port) {
        fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        // a server that never answers fails the test instead of hanging it
        const timeval io_timeout{30, 0};
        ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &io_timeout, sizeof io_timeout);
        ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &io_timeout, sizeof io_timeout);
        ok_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
    }
    ~Resp() { ::close(fd_); }
    [[nodiscard]] bool ok() const { return ok_; }

    Reply command(const std::vector<std::string_view>& args) {
        std::string out = "*" + std::to_string(args.size()) + "\r\n";
        for (std::string_view a : args) {
            out += "$" + std::to_string(a.size()) + "\r\n";
            out.append(a);
            out += "\r\n";
        }
        send_all(out);
        return read_reply();
    }

    Reply command_argv(int argc, const char** argv, const size_t* len) {
        std::vector<std::string_view> args;
        for (int i = 0; i < argc; ++i) {
            args.emplace_back(argv[i], len[i]);
        }
        return command(args);
    }

    // Sends commands already in RESP, one after the other (WatchedBatch's), and reads one
    // reply for each.
    std::vector<Reply> pipeline(std::string_view bytes, size_t commands) {
        send_all(std::string(bytes));
        std::vector<Reply> out;
        for (size_t i = 0; i < commands; ++i) {
            out.push_back(read_reply());
        }
        return out;
    }
    // Sends a command core laid out as hiredis takes it (argc(), argv(), argvlen()): a
    // LiveBatch, a StreamAppend, ...
    template <typename Command>
    Reply send(Command& cmd) {
        return command_argv(cmd.argc(), cmd.argv(), cmd.argvlen());
    }

  private:
    void send_all(const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            const ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
            if (n <= 0) {
                return;
            }
            off += static_cast<size_t>(n);
        }
    }
    bool fill() {
        char buf[4096];
        const ssize_t n = ::read(fd_, buf, sizeof buf);
        if (n <= 0) {
            return false;
        }
        in_.append(buf, static_cast<size_t>(n));
        return true;
    }
    std::string line() {
        size_t pos;
        while ((pos = in_.find("\r\n")) == std::string::npos) {
            if (!fill()) {
                return {};
            }
        }
        std::string l = in_.substr(0, pos);
        in_.erase(0, pos + 2);
        return l;
    }
    Reply read_reply() {
        Reply r;
        const std::string l = line();
        if (l.empty()) {
            r.kind = '-';
            r.str = "connection lost";
            return r;
        }
        r.kind = l[0];
        const std::string rest = l.substr(1);
        if (r.kind == '+' || r.kind == '-') {
            r.str = rest;
        } else if (r.kind == ':') {
            r.integer = std::stoll(rest);
        } else if (r.kind == '$') {
            const long long n = std::stoll(rest);
            if (n < 0) {
                r.nil = true;
                return r;
            }
            while (in_.size() < static_cast<size_t>(n) + 2) {
                if (!fill()) {
                    break;
                }
            }
            r.str = in_.substr(0, static_cast<size_t>(n));
            in_.erase(0, static_cast<size_t>(n) + 2);
        } else if (r.kind == '*') {
            const long long n = std::stoll(rest);
            r.nil = n < 0;
            for (long long i = 0; i < n; ++i) {
                r.elements.push_back(read_reply());
            }
        }
        return r;
    }

    int fd_ = -1;
    bool ok_ = false;
    std::string in_;
};

// The lowest port the kernel hands out as the local end of an outgoing
// connection (/proc/sys/net/ipv4/ip_local_port_range).
inline int ephemeral_low() {
    std::ifstream range("/proc/sys/net/ipv4/ip_local_port_range");
    int low = 0;
    return (range >> low) && low > 12000 ? low : 32768;
}

// A loopback port nobody holds now, taken below the kernel's ephemeral range
// (as tests/integration/ports.py does): a port probed free inside it can
// become the local end of any outgoing connection on the machine (another
// test's nginx to its Redis, a client, even this harness's own probe, which
// then connects to itself) before redis-server binds it.
inline int free_port() {
    static std::mt19937 rng(std::random_device{}() ^ static_cast<unsigned>(::getpid()));
    std::uniform_int_distribution<int> pick(10000, ephemeral_low() - 1);
    for (int attempt = 0; attempt < 200; ++attempt) {
        const int port = pick(rng);
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_port = htons(static_cast<uint16_t>(port));
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        const bool is_free = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
        ::close(fd);
        if (is_free) {
            return port;
        }
    }
    return 0;
}

// RedisServer: one redis-server process, started once per test suite.
class RedisServer {
  public:
    // Starts redis-server and waits until it answers as itself. A port taken
    // by someone else between the probe and redis-server's bind makes it exit:
    // it is started again on another port. The bound is generous (a loaded CI
    // machine may take seconds to start a process); no test asserts it.
    void start() {
        if (::access(kRedisServer, X_OK) != 0) {
            return;
        }
        installed_ = true;
        for (int attempt = 0; attempt < 5; ++attempt) {
            port_ = free_port();
            pid_ = spawn(port_);
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
            while (pid_ > 0 && std::chrono::steady_clock::now() < deadline) {
                if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
                    pid_ = -1;  // it exited: the port was taken, try another
                    break;
                }
                if (answers_as(pid_, port_)) {
                    return;
                }
                std::this_thread::sleep_for(std::chrono::milliseconds(20));
            }
            stop();
        }
        port_ = 0;  // installed but never answered: SetUp's connection fails, loudly
    }
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
        }
        pid_ = -1;
    }
    // Whether redis-server is installed (tests skip when it is not).
    [[nodiscard]] bool running() const { return installed_; }
    [[nodiscard]] int port() const { return port_; }

  private:
    static pid_t spawn(int port) {
        const pid_t pid = ::fork();
        if (pid == 0) {
            // If the test dies (an assertion abort, a sanitizer report), the
            // server goes with it, and it never holds the test's stdout:
            // ctest waits for that pipe to close.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            const int devnull = ::open("/dev/null", O_RDWR);
            if (devnull >= 0) {
                ::dup2(devnull, STDIN_FILENO);
                ::dup2(devnull, STDOUT_FILENO);
                ::dup2(devnull, STDERR_FILENO);
            }
            const std::string p = std::to_string(port);
            ::execl(kRedisServer, kRedisServer, "--port", p.c_str(), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--loglevel", "warning",
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        return pid;
    }

    // Whether the server on `port` is the one this harness started: whoever
    // else took the port must not be mistaken for it.
    static bool answers_as(pid_t pid, int port) {
        Resp probe(port);
        if (!probe.ok()) {
            return false;
        }
        const Reply r = probe.command({"INFO", "server"});
        return r.kind == '$' &&
               r.str.find("\r\nprocess_id:" + std::to_string(pid) + "\r\n") != std::string::npos;
    }

    bool installed_ = false;
    int port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace tailor
