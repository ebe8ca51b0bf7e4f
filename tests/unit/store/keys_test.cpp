// VisitorKey: the key schema, and that the scripts which must derive a key
// from another (the tombstone beside the live and profile keys) spell it the
// same way.
#include "tailor/store/keys.h"

#include <gtest/gtest.h>

#include "tailor/events/live.h"
#include "tailor/popup/beacon.h"
#include "tailor/store/visitor_read.h"

namespace tailor {
namespace {

TEST(StoreKeys, EveryKindIsTaggedByTheVisitor) {
    EXPECT_EQ(visitor_key("abc", VisitorKeyKind::kLive), "tailor:{abc}:live");
    EXPECT_EQ(visitor_key("abc", VisitorKeyKind::kErased), "tailor:{abc}:erased");
    EXPECT_EQ(visitor_key("-x", VisitorKeyKind::kEvents), "tailor:{-x}:ev");
    EXPECT_EQ(visitor_key_size("abc", VisitorKeyKind::kErased),
              visitor_key("abc", VisitorKeyKind::kErased).size());
}

TEST(StoreKeys, EraseDeletesDataNotTheTombstone) {
    for (VisitorKeyKind k : kVisitorKeyKinds) {
        EXPECT_NE(k, VisitorKeyKind::kErased);
    }
}

TEST(StoreKeys, TheScriptsSpellTheTombstoneAndTheLinksAsTheSchemaDoes) {
    const std::string suffix = "'" + std::string(visitor_key_suffix(VisitorKeyKind::kErased)) + "'";
    EXPECT_NE(kLiveScript.find(suffix), std::string_view::npos);
    EXPECT_NE(kPopupCapsScript.find(suffix), std::string_view::npos);
    EXPECT_NE(kPopupCapsScript.find("string.sub(KEYS[2], 1, -5)"), std::string_view::npos);
    EXPECT_NE(kLiveScript.find("'" + std::string(kMergedIntoField) + "'"), std::string_view::npos);
    EXPECT_NE(kLiveScript.find("'" + std::string(kMergedFromFieldPrefix) + "'"),
              std::string_view::npos);
    // the scripts cut the suffix of the key they were given: its length is part of the spelling
    EXPECT_NE(kLiveScript.find("string.sub(KEYS[ki], 1, -5)"), std::string_view::npos);
    EXPECT_EQ(visitor_key_suffix(VisitorKeyKind::kLive).size() + 1, 5u);
}

TEST(StoreKeys, TheVisitorReadAsksForTheTombstoneByItsKey) {
    VisitorRead cmd("abc", 1024, VisitorReadCaps::kRead);
    ASSERT_EQ(cmd.argc(0), 2);
    EXPECT_EQ(std::string_view(cmd.argv(0)[1], cmd.argvlen(0)[1]),
              visitor_key("abc", VisitorKeyKind::kErased));
}

}  // namespace
}  // namespace tailor
