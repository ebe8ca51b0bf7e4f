// ClusterSlotMap: key slots as Redis computes them, command keys, CLUSTER SLOTS replies (Redis 6
// and 7 shapes, malformed ones), MOVED/ASK redirections, and routing after a MOVED.
#include "tailor/store/cluster_slots.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tailor/store/keys.h"

namespace tailor {
namespace {

RespNode integer(long long v) {
    RespNode n;
    n.type = RespNode::Type::kInteger;
    n.integer = v;
    return n;
}

RespNode str(std::string_view s) {
    RespNode n;
    n.type = RespNode::Type::kString;
    n.str = s;
    return n;
}

RespNode array(std::vector<RespNode> e) {
    RespNode n;
    n.type = RespNode::Type::kArray;
    n.elements = std::move(e);
    return n;
}

RespNode node(std::string_view host, long long port, bool redis7 = false) {
    std::vector<RespNode> e = {str(host), integer(port), str("0123456789abcdef")};
    if (redis7) {
        e.push_back(array({}));  // Redis 7 adds the node's metadata
    }
    return array(std::move(e));
}

RespNode entry(long long first, long long last, std::vector<RespNode> nodes) {
    std::vector<RespNode> e = {integer(first), integer(last)};
    for (auto& n : nodes) {
        e.push_back(std::move(n));
    }
    return array(std::move(e));
}

TEST(ClusterKeySlot, MatchesRedisForPlainKeys) {
    // values from Redis's own cluster tests and CLUSTER KEYSLOT
    EXPECT_EQ(cluster_key_slot("123456789"), 0x31C3 % 16384);
    EXPECT_EQ(cluster_key_slot("foo"), 12182);
    EXPECT_EQ(cluster_key_slot("bar"), 5061);
    EXPECT_EQ(cluster_key_slot("hello"), 866);
    EXPECT_EQ(cluster_key_slot(""), 0);
}

TEST(ClusterKeySlot, HashTagPicksTheFirstNonEmptyBraces) {
    EXPECT_EQ(cluster_key_slot("{user1000}.following"), cluster_key_slot("user1000"));
    EXPECT_EQ(cluster_key_slot("foo{bar}{zap}"), cluster_key_slot("bar"));
    EXPECT_EQ(cluster_key_slot("foo{{bar}}zap"), cluster_key_slot("{bar"));
    EXPECT_EQ(cluster_key_slot("foo{}{bar}"), cluster_key_slot("foo{}{bar}"));
    EXPECT_NE(cluster_key_slot("foo{}{bar}"), cluster_key_slot("bar"));
    EXPECT_EQ(cluster_key_slot("foo{bar"), cluster_key_slot("foo{bar"));
}

TEST(ClusterKeySlot, AllOfOneVisitorsKeysShareASlot) {
    const std::string vid = "q3Zf0x8W2mYbT1kL9cVn_A";
    uint16_t slot = cluster_key_slot(vid);
    for (VisitorKeyKind kind : kVisitorKeyKinds) {
        EXPECT_EQ(cluster_key_slot(visitor_key(vid, kind)), slot);
    }
}

TEST(ClusterCommandKey, FirstArgumentOfAPlainCommand) {
    EXPECT_EQ(cluster_command_key({"GET", "k"}), "k");
    EXPECT_EQ(cluster_command_key({"xadd", "s", "*", "a", "b"}), "s");
}

TEST(ClusterCommandKey, FirstKeyOfAScript) {
    EXPECT_EQ(cluster_command_key({"EVALSHA", "abc", "2", "k1", "k2", "arg"}), "k1");
    EXPECT_EQ(cluster_command_key({"eval", "return 1", "1", "k1"}), "k1");
    EXPECT_EQ(cluster_command_key({"EVAL", "return 1", "0"}), std::nullopt);
    EXPECT_EQ(cluster_command_key({"EVAL", "return 1", "x", "k"}), std::nullopt);
}

TEST(ClusterCommandKey, FirstStreamOfAnXread) {
    EXPECT_EQ(cluster_command_key({"XREAD", "COUNT", "5", "BLOCK", "0", "STREAMS", "s", "$"}), "s");
    EXPECT_EQ(cluster_command_key({"xreadgroup", "GROUP", "g", "c", "streams", "s2", ">"}), "s2");
    EXPECT_EQ(cluster_command_key({"XREAD", "COUNT", "5"}), std::nullopt);
}

TEST(ClusterCommandKey, KeylessCommandsGoAnywhere) {
    EXPECT_EQ(cluster_command_key({"PING"}), std::nullopt);
    EXPECT_EQ(cluster_command_key({"SCRIPT", "LOAD", "return 1"}), std::nullopt);
    EXPECT_EQ(cluster_command_key({"cluster", "slots"}), std::nullopt);
    EXPECT_EQ(cluster_command_key({}), std::nullopt);
}

TEST(ClusterRedirectParse, MovedAndAsk) {
    auto m = parse_cluster_redirect("MOVED 3999 127.0.0.1:7002", "10.0.0.1");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->kind, ClusterRedirect::Kind::kMoved);
    EXPECT_EQ(m->slot, 3999);
    EXPECT_EQ(m->node.host, "127.0.0.1");
    EXPECT_EQ(m->node.port, 7002);

    auto a = parse_cluster_redirect("ASK 0 [::1]:7000", "");
    ASSERT_TRUE(a);
    EXPECT_EQ(a->kind, ClusterRedirect::Kind::kAsk);
    EXPECT_EQ(a->node.host, "::1");
}

TEST(ClusterRedirectParse, EmptyHostIsTheNodeThatAnswered) {
    auto m = parse_cluster_redirect("MOVED 12 :7001", "10.1.2.3");
    ASSERT_TRUE(m);
    EXPECT_EQ(m->node.host, "10.1.2.3");
}

TEST(ClusterRedirectParse, RefusesOtherErrorsAndMalformedOnes) {
    EXPECT_FALSE(parse_cluster_redirect("ERR unknown command", "h"));
    EXPECT_FALSE(parse_cluster_redirect("MOVED", "127.0.0.1"));
    EXPECT_FALSE(parse_cluster_redirect("MOVED 16384 127.0.0.1:1", ""));
    EXPECT_FALSE(parse_cluster_redirect("MOVED 1 127.0.0.1:0", ""));
    EXPECT_FALSE(parse_cluster_redirect("MOVED 1 127.0.0.1:70000", ""));
    EXPECT_FALSE(parse_cluster_redirect("MOVED x 127.0.0.1:7000", ""));
    EXPECT_FALSE(parse_cluster_redirect("MOVED 1 redis-1:7000", ""));  // never resolved
    EXPECT_FALSE(parse_cluster_redirect("CROSSSLOT Keys in request", ""));
}

TEST(ClusterSlotMapUpdate, ThreePrimariesWithReplicas) {
    RespNode reply = array({
        entry(0, 5460, {node("127.0.0.1", 7000, true), node("127.0.0.1", 7004, true)}),
        entry(5461, 10922, {node("127.0.0.1", 7001, true), node("127.0.0.1", 7005, true)}),
        entry(10923, 16383, {node("127.0.0.1", 7002, true), node("127.0.0.1", 7003, true)}),
    });
    ClusterSlotMap map;
    std::string error;
    ASSERT_TRUE(map.update(reply, "127.0.0.1", &error)) << error;
    EXPECT_EQ(map.covered(), 16384u);
    EXPECT_EQ(map.nodes(), 6u);
    EXPECT_EQ(map.node(map.primary(0)).port, 7000);
    EXPECT_EQ(map.node(map.primary(5461)).port, 7001);
    EXPECT_EQ(map.node(map.primary(16383)).port, 7002);
    EXPECT_EQ(map.node(map.replica(0, 0)).port, 7004);
    EXPECT_EQ(map.node(map.replica(16383, 7)).port, 7003);
    EXPECT_TRUE(map.is_primary(map.primary(0)));
    EXPECT_FALSE(map.is_primary(map.replica(0, 0)));
}

TEST(ClusterSlotMapUpdate, Redis6ShapeAndEmptyHost) {
    RespNode reply = array({entry(0, 16383, {node("", 7000)})});
    ClusterSlotMap map;
    ASSERT_TRUE(map.update(reply, "127.0.0.1", nullptr));
    EXPECT_EQ(map.node(map.primary(100)).host, "127.0.0.1");
    EXPECT_EQ(map.replica(100, 0), ClusterSlotMap::kNone);
}

TEST(ClusterSlotMapUpdate, NodeNumbersSurviveAnUpdate) {
    ClusterSlotMap map;
    ASSERT_TRUE(map.update(array({entry(0, 16383, {node("127.0.0.1", 7000)})}), "", nullptr));
    int before = map.primary(0);
    // a failover: 7001 takes over, 7000 is gone from the reply
    ASSERT_TRUE(map.update(array({entry(0, 16383, {node("127.0.0.1", 7001)})}), "", nullptr));
    EXPECT_EQ(map.node(before).port, 7000);
    EXPECT_EQ(map.node(map.primary(0)).port, 7001);
    EXPECT_EQ(map.find({"127.0.0.1", 7000}), before);
}

TEST(ClusterSlotMapUpdate, UncoveredSlotsRouteNowhere) {
    ClusterSlotMap map;
    ASSERT_TRUE(map.update(array({entry(0, 99, {node("127.0.0.1", 7000)})}), "", nullptr));
    EXPECT_EQ(map.covered(), 100u);
    EXPECT_EQ(map.primary(100), ClusterSlotMap::kNone);
    EXPECT_EQ(ClusterSlotMap().primary(0), ClusterSlotMap::kNone);
}

TEST(ClusterSlotMapUpdate, HostnameEndpointsAreSkipped) {
    ClusterSlotMap map;
    ASSERT_TRUE(map.update(array({entry(0, 99, {node("redis-1", 7000)}),
                                  entry(100, 16383, {node("127.0.0.1", 7001), node("r2", 7002)})}),
                           "", nullptr));
    EXPECT_EQ(map.primary(0), ClusterSlotMap::kNone);
    EXPECT_EQ(map.node(map.primary(100)).port, 7001);
    EXPECT_EQ(map.replica(100, 0), ClusterSlotMap::kNone);
}

TEST(ClusterSlotMapUpdate, MalformedRepliesLeaveTheMapAlone) {
    ClusterSlotMap map;
    ASSERT_TRUE(map.update(array({entry(0, 16383, {node("127.0.0.1", 7000)})}), "", nullptr));
    std::string error;
    EXPECT_FALSE(map.update(str("nope"), "", &error));
    EXPECT_FALSE(map.update(array({entry(0, 16384, {node("127.0.0.1", 7001)})}), "", &error));
    EXPECT_EQ(error, "slot range out of bounds");
    EXPECT_FALSE(map.update(array({entry(5, 4, {node("127.0.0.1", 7001)})}), "", &error));
    EXPECT_FALSE(map.update(
        array({entry(0, 10, {node("127.0.0.1", 7001)}), entry(10, 20, {node("127.0.0.1", 7002)})}),
        "", &error));
    EXPECT_EQ(error, "overlapping slot ranges");
    EXPECT_FALSE(map.update(array({entry(0, 10, {node("127.0.0.1", 0)})}), "", &error));
    EXPECT_FALSE(map.update(array({array({integer(0), integer(1)})}), "", &error));
    EXPECT_FALSE(map.update(array({entry(0, 10, {array({integer(1), integer(2)})})}), "", &error));
    EXPECT_EQ(map.node(map.primary(0)).port, 7000);
    EXPECT_EQ(map.covered(), 16384u);
}

TEST(ClusterSlotMapMoved, RoutesTheSlotToItsNewNode) {
    ClusterSlotMap map;
    ASSERT_TRUE(map.update(
        array({entry(0, 16383, {node("127.0.0.1", 7000), node("127.0.0.1", 7003)})}), "", nullptr));
    int n = map.moved(42, {"127.0.0.1", 7001});
    EXPECT_EQ(map.node(n).port, 7001);
    EXPECT_EQ(map.primary(42), n);
    EXPECT_EQ(map.replica(42, 0), ClusterSlotMap::kNone);  // 7003 replicates 7000, not 7001
    EXPECT_EQ(map.node(map.primary(43)).port, 7000);
    EXPECT_EQ(map.moved(43, {"127.0.0.1", 7001}), n);
}

TEST(ClusterIpLiteral, LiteralsOnly) {
    EXPECT_TRUE(is_ip_literal("127.0.0.1"));
    EXPECT_TRUE(is_ip_literal("::1"));
    EXPECT_TRUE(is_ip_literal("fe80::1"));
    EXPECT_FALSE(is_ip_literal("localhost"));
    EXPECT_FALSE(is_ip_literal(""));
    EXPECT_FALSE(is_ip_literal("127.0.0.1:80"));
    EXPECT_FALSE(is_ip_literal(std::string(100, '1')));
}

}  // namespace
}  // namespace tailor
