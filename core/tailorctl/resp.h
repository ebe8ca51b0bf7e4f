// A small blocking RESP2 client over a TCP socket, for tailorctl's Redis commands (events tail,
// profile erase), so tailorctl keeps linking the core library only.
#pragma once

#include <netdb.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailorctl {

struct Reply {
    enum class Type { kNil, kStatus, kError, kInteger, kBulk, kArray } type = Type::kNil;
    std::string str;
    long long integer = 0;
    std::vector<Reply> elements;
};

class Resp {
  public:
    ~Resp() {
        if (fd_ >= 0) {
            close(fd_);
        }
    }

    // "host:port" or "[v6]:port"; false with a message on stderr
    bool connect_to(std::string_view address) {
        std::string host(address);
        std::string port = "6379";
        size_t colon = host.rfind(':');
        if (!host.empty() && host[0] == '[') {
            size_t close_bracket = host.find(']');
            if (close_bracket == std::string::npos) {
                return fail("bad address");
            }
            if (close_bracket + 1 < host.size() && host[close_bracket + 1] == ':') {
                port = host.substr(close_bracket + 2);
            }
            host = host.substr(1, close_bracket - 1);
        } else if (colon != std::string::npos) {
            port = host.substr(colon + 1);
            host.resize(colon);
        }

        addrinfo hints{};
        hints.ai_socktype = SOCK_STREAM;
        addrinfo* res = nullptr;
        int rc = getaddrinfo(host.c_str(), port.c_str(), &hints, &res);
        if (rc != 0) {
            return fail(gai_strerror(rc));
        }
        for (addrinfo* ai = res; ai != nullptr; ai = ai->ai_next) {
            int fd = socket(ai->ai_family, ai->ai_socktype, ai->ai_protocol);
            if (fd < 0) {
                continue;
            }
            if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0) {
                fd_ = fd;
                break;
            }
            close(fd);
        }
        freeaddrinfo(res);
        return fd_ >= 0 ? true : fail("cannot connect");
    }

    std::optional<Reply> command(const std::vector<std::string>& argv) {
        std::string out = "*" + std::to_string(argv.size()) + "\r\n";
        for (const auto& a : argv) {
            out += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
        }
        size_t sent = 0;
        while (sent < out.size()) {
            ssize_t n = write(fd_, out.data() + sent, out.size() - sent);
            if (n <= 0) {
                fail("write failed");
                return std::nullopt;
            }
            sent += static_cast<size_t>(n);
        }
        return read_reply(0);
    }

  private:
    bool fail(const char* why) {
        std::fprintf(stderr, "tailorctl: redis: %s\n", why);
        return false;
    }

    bool fill() {
        char chunk[65536];
        ssize_t n = read(fd_, chunk, sizeof(chunk));
        if (n <= 0) {
            return fail("connection closed");
        }
        buf_.append(chunk, static_cast<size_t>(n));
        return true;
    }

    std::optional<std::string> line() {
        size_t end;
        while ((end = buf_.find("\r\n", pos_)) == std::string::npos) {
            if (!fill()) {
                return std::nullopt;
            }
        }
        std::string l = buf_.substr(pos_, end - pos_);
        pos_ = end + 2;
        compact();
        return l;
    }

    void compact() {
        if (pos_ > 1 << 20) {
            buf_.erase(0, pos_);
            pos_ = 0;
        }
    }

    std::optional<Reply> read_reply(int depth) {
        if (depth > 8) {
            return std::nullopt;
        }
        std::optional<std::string> l = line();
        if (!l || l->empty()) {
            return std::nullopt;
        }
        Reply r;
        char t = (*l)[0];
        std::string rest = l->substr(1);
        if (t == '+' || t == '-') {
            r.type = t == '+' ? Reply::Type::kStatus : Reply::Type::kError;
            r.str = rest;
        } else if (t == ':') {
            r.type = Reply::Type::kInteger;
            r.integer = std::strtoll(rest.c_str(), nullptr, 10);
        } else if (t == '$') {
            long long n = std::strtoll(rest.c_str(), nullptr, 10);
            if (n < 0) {
                return r;
            }
            if (n > 512ll * 1024 * 1024) {
                return std::nullopt;
            }
            while (buf_.size() - pos_ < static_cast<size_t>(n) + 2) {
                if (!fill()) {
                    return std::nullopt;
                }
            }
            r.type = Reply::Type::kBulk;
            r.str = buf_.substr(pos_, static_cast<size_t>(n));
            pos_ += static_cast<size_t>(n) + 2;
            compact();
        } else if (t == '*') {
            long long n = std::strtoll(rest.c_str(), nullptr, 10);
            if (n < 0) {
                return r;
            }
            r.type = Reply::Type::kArray;
            for (long long i = 0; i < n; i++) {
                std::optional<Reply> e = read_reply(depth + 1);
                if (!e) {
                    return std::nullopt;
                }
                r.elements.push_back(std::move(*e));
            }
        } else {
            return std::nullopt;
        }
        return r;
    }

    int fd_ = -1;
    std::string buf_;
    size_t pos_ = 0;
};

}  // namespace tailorctl
