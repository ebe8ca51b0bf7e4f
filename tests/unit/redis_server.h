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
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
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

inline int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
    ::close(fd);
    return ntohs(addr.sin_port);
}

// RedisServer: one redis-server process, started once per test suite.
class RedisServer {
  public:
    void start() {
        if (::access(kRedisServer, X_OK) != 0) {
            return;
        }
        port_ = free_port();
        pid_ = ::fork();
        if (pid_ == 0) {
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
            const std::string port = std::to_string(port_);
            ::execl(kRedisServer, kRedisServer, "--port", port.c_str(), "--bind", "127.0.0.1",
                    "--save", "", "--appendonly", "no", "--loglevel", "warning",
                    static_cast<char*>(nullptr));
            ::_exit(127);
        }
        for (int i = 0; i < 100; ++i) {
            if (Resp(port_).ok()) {
                return;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    void stop() {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            ::waitpid(pid_, nullptr, 0);
            pid_ = -1;
        }
    }
    [[nodiscard]] bool running() const { return pid_ > 0; }
    [[nodiscard]] int port() const { return port_; }

  private:
    int port_ = 0;
    pid_t pid_ = -1;
};

}  // namespace tailor
