// ClusterSlotMap: Redis Cluster's routing decisions, without a Redis client: which slot a key
// hashes to (CRC16 with hash tags), which key of a command routes it, the slot map from a
// CLUSTER SLOTS reply, and the MOVED/ASK redirections. The glue (hiredis) and tailorctl turn
// their replies into RespNode and act on what this file decides.
//
// One visitor's keys share the `{vid}` hash tag (keys.h): one slot, one node, one command.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tailor {

inline constexpr uint16_t kClusterSlotCount = 16384;

// cluster_key_slot
//
// The hash slot of a key: CRC16 (XMODEM) of the key, or of the part inside the first `{...}`
// when that part is not empty, modulo 16384. As Redis computes it (cluster.c keyHashSlot).
// Example: cluster_key_slot("tailor:{abc}:profile") == cluster_key_slot("abc").
[[nodiscard]] uint16_t cluster_key_slot(std::string_view key) noexcept;

// cluster_command_key
//
// The key a command is routed by: the first key of EVAL/EVALSHA/EVAL_RO/EVALSHA_RO/FCALL
// (after numkeys), the first stream of XREAD/XREADGROUP (after STREAMS), else the first
// argument. nullopt for a command without a key (PING, SCRIPT,
// CLUSTER, READONLY, ASKING, ...): any node may answer it.
// Example: {"EVALSHA", sha, "2", "tailor:{v}:caps", ...} -> "tailor:{v}:caps".
[[nodiscard]] std::optional<std::string_view> cluster_command_key(
    const std::vector<std::string_view>& argv) noexcept;

// RespNode
//
// A reply as every client sees it, for code that must not know hiredis. Strings are views into
// the client's reply, valid while it is.
struct RespNode {
    enum class Type : unsigned char { kNil, kStatus, kError, kInteger, kString, kArray };
    Type type = Type::kNil;
    std::string_view str;
    long long integer = 0;
    std::vector<RespNode> elements;
};

// ClusterNodeAddress
//
// A node as CLUSTER SLOTS or a redirection names it. The host is an IP literal (IPv4 or IPv6,
// no brackets): a worker must never resolve a name.
struct ClusterNodeAddress {
    std::string host;
    uint16_t port = 0;

    friend bool operator==(const ClusterNodeAddress& a, const ClusterNodeAddress& b) noexcept {
        return a.port == b.port && a.host == b.host;
    }
};

// is_ip_literal
//
// True for "127.0.0.1" or "::1"; false for names ("redis-1") and anything else.
[[nodiscard]] bool is_ip_literal(std::string_view host) noexcept;

// ClusterRedirect
//
// A `-MOVED <slot> <host>:<port>` or `-ASK <slot> <host>:<port>` error reply.
struct ClusterRedirect {
    enum class Kind : unsigned char { kMoved, kAsk };
    Kind kind = Kind::kMoved;
    uint16_t slot = 0;
    ClusterNodeAddress node;
};

// parse_cluster_redirect
//
// The redirection an error reply's text carries, or nullopt when it is none (or malformed). An
// empty host (Redis 7: "MOVED 12 :7001", the endpoint is unknown) becomes `current_host`, the
// node that answered. A host that is not an IP literal is refused (nullopt).
// Example: parse_cluster_redirect("MOVED 3999 127.0.0.1:7002", "") -> {kMoved, 3999, ...}.
[[nodiscard]] std::optional<ClusterRedirect> parse_cluster_redirect(
    std::string_view error, std::string_view current_host) noexcept;

// ClusterSlotMap
//
// Which node serves each slot: its primary, and its replicas. Nodes are numbered in the order
// they were first seen; a number stays valid for the map's life (the glue keeps one connection
// per number).
class ClusterSlotMap {
  public:
    static constexpr int kNone = -1;

    // ClusterSlotMap::update
    //
    // The map a CLUSTER SLOTS reply describes: an array of [first, last, primary, replica...],
    // each node [host, port, id, (metadata)]. `queried_host` stands in for an empty host (the
    // node answering does not know its own address). Entries whose host is not an IP literal
    // (a hostname endpoint) are skipped; a malformed reply (out-of-range or overlapping slots,
    // wrong types) is false with `*error` saying why, and the map is left as it was. Slots no
    // entry covers route nowhere. Nodes keep their numbers across updates.
    [[nodiscard]] bool update(const RespNode& reply, std::string_view queried_host,
                              std::string* error);

    // ClusterSlotMap::primary / replica
    //
    // The node serving `slot`, or kNone. replica(slot, pick) chooses among the slot's replicas
    // by `pick` (round robin by the caller); kNone when it has none.
    [[nodiscard]] int primary(uint16_t slot) const noexcept;
    [[nodiscard]] int replica(uint16_t slot, uint32_t pick) const noexcept;

    // ClusterSlotMap::moved
    //
    // A MOVED said `slot` lives on `node` now: route it there until the next update. Returns the
    // node's number (a new one when the map did not know it).
    int moved(uint16_t slot, const ClusterNodeAddress& node);

    // ClusterSlotMap::node / find / add
    //
    // The numbered nodes; find() is kNone for an unknown address; add() numbers a new one.
    [[nodiscard]] const ClusterNodeAddress& node(int n) const noexcept { return nodes_[n]; }
    [[nodiscard]] size_t nodes() const noexcept { return nodes_.size(); }
    [[nodiscard]] int find(const ClusterNodeAddress& node) const noexcept;
    int add(const ClusterNodeAddress& node);

    // ClusterSlotMap::covered
    //
    // Slots that have a primary.
    [[nodiscard]] size_t covered() const noexcept;

    // ClusterSlotMap::is_primary
    //
    // True when node `n` is the primary of at least one slot.
    [[nodiscard]] bool is_primary(int n) const noexcept;

  private:
    std::vector<ClusterNodeAddress> nodes_;
    std::array<int16_t, kClusterSlotCount> primary_ = filled();
    std::array<uint16_t, kClusterSlotCount> range_{};  // into replicas_, when primary_ is set
    std::vector<std::vector<int16_t>> replicas_;       // per CLUSTER SLOTS entry

    static std::array<int16_t, kClusterSlotCount> filled() noexcept {
        std::array<int16_t, kClusterSlotCount> a{};
        a.fill(static_cast<int16_t>(kNone));
        return a;
    }
};

}  // namespace tailor
