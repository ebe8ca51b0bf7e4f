// Cluster slots fuzz: what a Redis node (or something pretending to be one) answers to
// CLUSTER SLOTS, and the MOVED/ASK text it sends, through core's routing decisions.
//
// Input: byte 0 picks the queried host; the rest is read twice: as a reply tree (a byte picks
// each node's type; strings with the top bit of their length byte set are picked from a list
// of addresses, so valid maps come up often) given to ClusterSlotMap::update, and as text for
// parse_cluster_redirect, cluster_key_slot and cluster_command_key. Invariants: a refused
// reply leaves the map as it was; an accepted one routes every slot to a numbered node (or
// none) whose host is an IP literal; a redirection has a slot in range, a port and a literal.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "tailor/store/cluster_slots.h"

namespace {

constexpr std::string_view kHosts[] = {"127.0.0.1", "::1", "", "10.0.0.7", "redis-1", "?"};

void check(bool ok) {
    if (!ok) {
        std::abort();
    }
}

struct Reader {
    const uint8_t* p;
    const uint8_t* end;

    bool more() const { return p < end; }
    uint8_t byte() { return p < end ? *p++ : 0; }
};

tailor::RespNode read_node(Reader* r, int depth) {
    tailor::RespNode n;
    if (!r->more()) {
        return n;
    }
    switch (r->byte() % 6) {
        case 1: {
            n.type = tailor::RespNode::Type::kInteger;
            int v = (r->byte() << 8) | r->byte();
            n.integer = v - 256;
            break;
        }
        case 2:
        case 4:
        case 5: {
            n.type = tailor::RespNode::Type::kString;
            uint8_t len = r->byte();
            if (len & 0x80) {
                n.str = kHosts[len % (sizeof(kHosts) / sizeof(kHosts[0]))];
            } else {
                size_t take = std::min<size_t>(len % 24, static_cast<size_t>(r->end - r->p));
                n.str = {reinterpret_cast<const char*>(r->p), take};
                r->p += take;
            }
            break;
        }
        case 3: {
            n.type = tailor::RespNode::Type::kArray;
            size_t count = depth < 5 ? r->byte() % 8 : 0;
            for (size_t i = 0; i < count && r->more(); i++) {
                n.elements.push_back(read_node(r, depth + 1));
            }
            break;
        }
        default:
            break;
    }
    return n;
}

void check_map(const tailor::ClusterSlotMap& map) {
    for (uint16_t s = 0; s < tailor::kClusterSlotCount; s++) {
        int p = map.primary(s);
        check(p >= tailor::ClusterSlotMap::kNone && p < static_cast<int>(map.nodes()));
        int r = map.replica(s, s);
        check(r >= tailor::ClusterSlotMap::kNone && r < static_cast<int>(map.nodes()));
        check(p != tailor::ClusterSlotMap::kNone || r == tailor::ClusterSlotMap::kNone);
    }
    for (size_t n = 0; n < map.nodes(); n++) {
        check(tailor::is_ip_literal(map.node(static_cast<int>(n)).host));
        check(map.node(static_cast<int>(n)).port != 0);
    }
    check(map.covered() <= tailor::kClusterSlotCount);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) {
        return 0;
    }
    std::string_view queried = kHosts[data[0] % 4];  // the first four: literals or empty
    std::string_view text(reinterpret_cast<const char*>(data + 1), size - 1);

    tailor::ClusterSlotMap map;
    Reader r{data + 1, data + size};
    tailor::RespNode first = read_node(&r, 1);
    tailor::RespNode second = read_node(&r, 1);

    std::string error;
    if (map.update(first, queried.empty() ? "127.0.0.1" : queried, &error)) {
        check(error.empty());
    } else {
        check(!error.empty() && map.nodes() == 0 && map.covered() == 0);
    }
    check_map(map);

    // a second reply: refused, the first map stands whole
    std::vector<int> before;
    for (uint16_t s = 0; s < tailor::kClusterSlotCount; s++) {
        before.push_back(map.primary(s));
    }
    size_t nodes = map.nodes();
    if (!map.update(second, "127.0.0.1", nullptr)) {
        check(map.nodes() == nodes);
        for (uint16_t s = 0; s < tailor::kClusterSlotCount; s++) {
            check(map.primary(s) == before[s]);
        }
    }
    check_map(map);

    auto redirect = tailor::parse_cluster_redirect(text, queried);
    if (redirect) {
        check(redirect->slot < tailor::kClusterSlotCount && redirect->node.port != 0);
        check(tailor::is_ip_literal(redirect->node.host));
        int n = redirect->kind == tailor::ClusterRedirect::Kind::kMoved
                    ? map.moved(redirect->slot, redirect->node)
                    : map.add(redirect->node);
        check(n >= 0 && map.node(n) == redirect->node);
        if (redirect->kind == tailor::ClusterRedirect::Kind::kMoved) {
            check(map.primary(redirect->slot) == n);
        }
        check_map(map);
    }

    check(tailor::cluster_key_slot(text) < tailor::kClusterSlotCount);
    if (!text.empty() && text.find_first_of("{}") == std::string_view::npos) {
        check(tailor::cluster_key_slot("x{" + std::string(text) + "}y") ==
              tailor::cluster_key_slot(text));
    }

    std::vector<std::string_view> argv;
    for (size_t start = 0; start <= text.size();) {
        size_t space = text.find(' ', start);
        if (space == std::string_view::npos) {
            space = text.size();
        }
        argv.push_back(text.substr(start, space - start));
        start = space + 1;
    }
    auto key = tailor::cluster_command_key(argv);
    if (key) {
        bool found = false;
        for (size_t i = 1; i < argv.size(); i++) {
            found = found || (argv[i].data() == key->data() && argv[i].size() == key->size());
        }
        check(found);
    }
    return 0;
}
