// ClusterSlotMap: key slots, command keys, CLUSTER SLOTS and MOVED/ASK, decided without a client.
#include "tailor/store/cluster_slots.h"

#include <arpa/inet.h>

#include <charconv>

namespace tailor {

namespace {

// CRC16-CCITT (XMODEM): polynomial 0x1021, initial 0, as Redis Cluster's crc16.c.
constexpr std::array<uint16_t, 256> crc16_table() noexcept {
    std::array<uint16_t, 256> t{};
    for (unsigned i = 0; i < 256; i++) {
        unsigned crc = i << 8;
        for (int b = 0; b < 8; b++) {
            crc = (crc & 0x8000) ? ((crc << 1) ^ 0x1021) : (crc << 1);
        }
        t[i] = static_cast<uint16_t>(crc & 0xffff);
    }
    return t;
}

constexpr std::array<uint16_t, 256> kCrc16 = crc16_table();

uint16_t crc16(std::string_view s) noexcept {
    unsigned crc = 0;
    for (char ch : s) {
        crc = ((crc << 8) ^ kCrc16[((crc >> 8) ^ static_cast<unsigned char>(ch)) & 0xff]) & 0xffff;
    }
    return static_cast<uint16_t>(crc);
}

bool iequals(std::string_view a, std::string_view b) noexcept {
    if (a.size() != b.size()) {
        return false;
    }
    for (size_t i = 0; i < a.size(); i++) {
        char x = a[i];
        char y = b[i];
        if (x >= 'a' && x <= 'z') {
            x = static_cast<char>(x - 'a' + 'A');
        }
        if (x != y) {
            return false;
        }
    }
    return true;
}

template <typename T>
bool parse_number(std::string_view s, T* out) noexcept {
    if (s.empty()) {
        return false;
    }
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
    return ec == std::errc() && end == s.data() + s.size();
}

// One [host, port, id, ...] of a CLUSTER SLOTS entry; false when malformed. `*usable` is false
// for a host that is not an IP literal (skipped, not an error).
bool parse_node(const RespNode& n, std::string_view queried_host, ClusterNodeAddress* out,
                bool* usable) {
    if (n.type != RespNode::Type::kArray || n.elements.size() < 2 ||
        n.elements[0].type != RespNode::Type::kString ||
        n.elements[1].type != RespNode::Type::kInteger || n.elements[1].integer <= 0 ||
        n.elements[1].integer > 65535) {
        return false;
    }
    std::string_view host = n.elements[0].str;
    if (host.empty()) {
        host = queried_host;
    }
    *usable = is_ip_literal(host);
    out->host.assign(host);
    out->port = static_cast<uint16_t>(n.elements[1].integer);
    return true;
}

}  // namespace

uint16_t cluster_key_slot(std::string_view key) noexcept {
    size_t open = key.find('{');
    if (open != std::string_view::npos) {
        size_t close = key.find('}', open + 1);
        if (close != std::string_view::npos && close != open + 1) {
            key = key.substr(open + 1, close - open - 1);
        }
    }
    return static_cast<uint16_t>(crc16(key) & (kClusterSlotCount - 1));
}

std::optional<std::string_view> cluster_command_key(
    const std::vector<std::string_view>& argv) noexcept {
    if (argv.size() < 2) {
        return std::nullopt;
    }
    std::string_view name = argv[0];
    if (iequals(name, "EVAL") || iequals(name, "EVALSHA") || iequals(name, "EVAL_RO") ||
        iequals(name, "EVALSHA_RO") || iequals(name, "FCALL") || iequals(name, "FCALL_RO")) {
        unsigned long numkeys = 0;
        if (argv.size() < 4 || !parse_number(argv[2], &numkeys) || numkeys == 0) {
            return std::nullopt;
        }
        return argv[3];
    }
    if (iequals(name, "XREAD") || iequals(name, "XREADGROUP")) {
        for (size_t i = 1; i + 1 < argv.size(); i++) {
            if (iequals(argv[i], "STREAMS")) {
                return argv[i + 1];
            }
        }
        return std::nullopt;
    }
    static constexpr std::string_view kKeyless[] = {
        "PING",  "SCRIPT", "CLUSTER", "READONLY", "READWRITE", "ASKING", "AUTH",
        "HELLO", "SELECT", "INFO",    "CLIENT",   "FUNCTION",  "ECHO",   "COMMAND"};
    for (std::string_view k : kKeyless) {
        if (iequals(name, k)) {
            return std::nullopt;
        }
    }
    return argv[1];
}

bool is_ip_literal(std::string_view host) noexcept {
    char buf[64];
    unsigned char addr[16];
    if (host.empty() || host.size() >= sizeof(buf)) {
        return false;
    }
    host.copy(buf, host.size());
    buf[host.size()] = '\0';
    return inet_pton(AF_INET, buf, addr) == 1 || inet_pton(AF_INET6, buf, addr) == 1;
}

std::optional<ClusterRedirect> parse_cluster_redirect(std::string_view error,
                                                      std::string_view current_host) noexcept {
    ClusterRedirect r;
    if (error.substr(0, 6) == "MOVED ") {
        r.kind = ClusterRedirect::Kind::kMoved;
        error.remove_prefix(6);
    } else if (error.substr(0, 4) == "ASK ") {
        r.kind = ClusterRedirect::Kind::kAsk;
        error.remove_prefix(4);
    } else {
        return std::nullopt;
    }
    size_t space = error.find(' ');
    if (space == std::string_view::npos) {
        return std::nullopt;
    }
    unsigned slot = 0;
    if (!parse_number(error.substr(0, space), &slot) || slot >= kClusterSlotCount) {
        return std::nullopt;
    }
    std::string_view endpoint = error.substr(space + 1);
    size_t colon = endpoint.rfind(':');
    if (colon == std::string_view::npos) {
        return std::nullopt;
    }
    unsigned port = 0;
    if (!parse_number(endpoint.substr(colon + 1), &port) || port == 0 || port > 65535) {
        return std::nullopt;
    }
    std::string_view host = endpoint.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
        host = host.substr(1, host.size() - 2);
    }
    if (host.empty()) {
        host = current_host;
    }
    if (!is_ip_literal(host)) {
        return std::nullopt;
    }
    try {
        r.slot = static_cast<uint16_t>(slot);
        r.node.host.assign(host);
        r.node.port = static_cast<uint16_t>(port);
    } catch (const std::exception&) {
        return std::nullopt;
    }
    return r;
}

bool ClusterSlotMap::update(const RespNode& reply, std::string_view queried_host,
                            std::string* error) {
    auto fail = [error](const char* why) {
        if (error != nullptr) {
            *error = why;
        }
        return false;
    };

    if (reply.type != RespNode::Type::kArray) {
        return fail("CLUSTER SLOTS reply is not an array");
    }

    std::array<int16_t, kClusterSlotCount> primary = filled();
    std::array<uint16_t, kClusterSlotCount> range{};
    std::vector<std::vector<int16_t>> replicas;
    std::vector<ClusterNodeAddress> nodes = nodes_;

    auto number = [&nodes](const ClusterNodeAddress& a) -> int {
        for (size_t i = 0; i < nodes.size(); i++) {
            if (nodes[i] == a) {
                return static_cast<int>(i);
            }
        }
        nodes.push_back(a);
        return static_cast<int>(nodes.size() - 1);
    };

    for (const RespNode& e : reply.elements) {
        if (e.type != RespNode::Type::kArray || e.elements.size() < 3 ||
            e.elements[0].type != RespNode::Type::kInteger ||
            e.elements[1].type != RespNode::Type::kInteger) {
            return fail("malformed CLUSTER SLOTS entry");
        }
        long long first = e.elements[0].integer;
        long long last = e.elements[1].integer;
        if (first < 0 || last < first || last >= kClusterSlotCount) {
            return fail("slot range out of bounds");
        }

        ClusterNodeAddress a;
        bool usable = false;
        if (!parse_node(e.elements[2], queried_host, &a, &usable)) {
            return fail("malformed CLUSTER SLOTS node");
        }
        if (!usable) {
            continue;  // a hostname endpoint: never resolved in a worker
        }
        if (nodes.size() >= 32767) {
            return fail("too many nodes");
        }
        int p = number(a);

        std::vector<int16_t> reps;
        for (size_t i = 3; i < e.elements.size(); i++) {
            ClusterNodeAddress ra;
            bool rusable = false;
            if (!parse_node(e.elements[i], queried_host, &ra, &rusable)) {
                return fail("malformed CLUSTER SLOTS node");
            }
            if (rusable && nodes.size() < 32767) {
                reps.push_back(static_cast<int16_t>(number(ra)));
            }
        }
        if (replicas.size() >= 0xffff) {
            return fail("too many slot ranges");
        }
        replicas.push_back(std::move(reps));

        for (long long s = first; s <= last; s++) {
            if (primary[static_cast<size_t>(s)] != kNone) {
                return fail("overlapping slot ranges");
            }
            primary[static_cast<size_t>(s)] = static_cast<int16_t>(p);
            range[static_cast<size_t>(s)] = static_cast<uint16_t>(replicas.size() - 1);
        }
    }

    nodes_ = std::move(nodes);
    primary_ = primary;
    range_ = range;
    replicas_ = std::move(replicas);
    return true;
}

int ClusterSlotMap::primary(uint16_t slot) const noexcept {
    return slot < kClusterSlotCount ? primary_[slot] : kNone;
}

int ClusterSlotMap::replica(uint16_t slot, uint32_t pick) const noexcept {
    if (slot >= kClusterSlotCount || primary_[slot] == kNone || range_[slot] >= replicas_.size()) {
        return kNone;
    }
    const std::vector<int16_t>& reps = replicas_[range_[slot]];
    if (reps.empty()) {
        return kNone;
    }
    return reps[pick % reps.size()];
}

int ClusterSlotMap::find(const ClusterNodeAddress& node) const noexcept {
    for (size_t i = 0; i < nodes_.size(); i++) {
        if (nodes_[i] == node) {
            return static_cast<int>(i);
        }
    }
    return kNone;
}

int ClusterSlotMap::add(const ClusterNodeAddress& node) {
    int n = find(node);
    if (n != kNone) {
        return n;
    }
    if (nodes_.size() >= 32767) {
        return kNone;
    }
    nodes_.push_back(node);
    return static_cast<int>(nodes_.size() - 1);
}

int ClusterSlotMap::moved(uint16_t slot, const ClusterNodeAddress& node) {
    int n = add(node);
    if (n == kNone || slot >= kClusterSlotCount) {
        return n;
    }
    primary_[slot] = static_cast<int16_t>(n);
    // its old replicas serve the old primary's slots: none for this one until the next update
    range_[slot] = 0xffff;
    return n;
}

size_t ClusterSlotMap::covered() const noexcept {
    size_t n = 0;
    for (int16_t p : primary_) {
        n += p != kNone;
    }
    return n;
}

bool ClusterSlotMap::is_primary(int n) const noexcept {
    for (int16_t p : primary_) {
        if (p == n) {
            return true;
        }
    }
    return false;
}

}  // namespace tailor
