// EventLive and viewed: a returning visitor's product view edits the stored map's bytes
// (live_script_bytes.h) and must leave exactly what decoding and re-encoding it would: the
// profile decoder reads the same list, newest first, one per sku, capped; maps the script
// cannot edit that way (an older layout, a product id that looks like an entry) still come
// out right through the full path.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "live_edit_fixture.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"
#include "tailor/profile/decode.h"

namespace tailor {
namespace {

// LiveMapEditTest (live_edit_fixture.h) gives view() and seed().
class EventLiveViewed : public LiveMapEditTest {
  protected:
    // Runs `blobs` as one batch, every event applied.
    void apply(const std::vector<std::string>& blobs) {
        EXPECT_EQ(run(blobs), std::vector<long long>(blobs.size(), 1));
    }

    // The skus of the stored viewed list, newest first, checked to decode cleanly.
    std::vector<std::string> viewed() {
        live_ = redis_->command({"GET", live_key(kVid)}).str;
        const auto r = decode_profile({}, live_);
        EXPECT_TRUE(r.profile.has_value());
        EXPECT_EQ(r.live_error, ProfileError::kNone);
        EXPECT_EQ(r.stats.unknown + r.stats.wrong_type, 0u);
        std::vector<std::string> out;
        if (r.profile) {
            last_seen_ = r.profile->last_seen;
            for (const ViewedItem& v : r.profile->viewed) {
                out.emplace_back(v.sku);
            }
        }
        return out;
    }

    static std::vector<std::string> skus(std::initializer_list<int> ids) {
        std::vector<std::string> out;
        for (int i : ids) {
            out.push_back("SKU-" + std::to_string(i));
        }
        return out;
    }

    std::string live_;
    int64_t last_seen_ = 0;
};

TEST_F(EventLiveViewed, AViewFromTheListMovesItFirst) {
    seed();
    apply({view("SKU-9", kT0 + 30000)});
    EXPECT_EQ(viewed(),
              skus({9, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 8, 7, 6, 5, 4, 3, 2, 1, 0}));
    EXPECT_EQ(last_seen_, (kT0 + 30000) / 1000);
}

TEST_F(EventLiveViewed, ANewProductPushesTheOldestOut) {
    seed();
    apply({view("NEW", kT0 + 30000, "", "")});  // no category, no price
    EXPECT_EQ(viewed()[0], "NEW");
    EXPECT_EQ(viewed().size(), 20u);
    EXPECT_EQ(viewed().back(), "SKU-1");
    // several in one batch, the last one first; the oldest of the list and one within it
    apply({view("SKU-1", kT0 + 31000), view("SKU-15", kT0 + 32000), view("X", kT0 + 32000)});
    EXPECT_EQ(viewed(), (std::vector<std::string>{
                            "X",      "SKU-15", "SKU-1",  "NEW",    "SKU-19", "SKU-18", "SKU-17",
                            "SKU-16", "SKU-14", "SKU-13", "SKU-12", "SKU-11", "SKU-10", "SKU-9",
                            "SKU-8",  "SKU-7",  "SKU-6",  "SKU-5",  "SKU-4",  "SKU-3"}));
    EXPECT_EQ(last_seen_, (kT0 + 32000) / 1000);
    // the entry keeps its fields
    const auto r = decode_profile({}, live_);
    EXPECT_EQ(r.profile->viewed[1].category, "Shirts");
    EXPECT_EQ(r.profile->viewed[1].price, 1999);
    EXPECT_EQ(r.profile->viewed[1].at, (kT0 + 32000) / 1000);
    EXPECT_EQ(r.profile->viewed[3].category, "");
}

TEST_F(EventLiveViewed, ProductIdsThatLookLikeEntriesStillComeOutRight) {
    seed();
    // a product id holding the bytes an entry starts with ("\x82\xa3sku" in the UTF-8 of the
    // franc sign and "sku"), and ids longer than 31 bytes
    const std::string odd = "\xe2\x82\xa3skux";
    const std::string longer(40, 'L');
    apply({view(odd, kT0 + 30000), view(longer, kT0 + 31000), view("SKU-18", kT0 + 32000)});
    std::vector<std::string> got = viewed();
    ASSERT_EQ(got.size(), 20u);
    EXPECT_EQ(got[0], "SKU-18");
    EXPECT_EQ(got[1], longer);
    EXPECT_EQ(got[2], odd);
    EXPECT_EQ(got[3], "SKU-19");
    apply({view("SKU-17", kT0 + 33000)});
    got = viewed();
    EXPECT_EQ(got[0], "SKU-17");
    EXPECT_EQ(got[3], odd);
    EXPECT_EQ(got[4], "SKU-19");
    EXPECT_EQ(got.size(), 20u);
}

TEST_F(EventLiveViewed, AMapInAnotherLayoutTakesTheFullPath) {
    seed();
    // the same map as cmsgpack writes it (format 3's script): decoded, edited, laid out again
    const Reply packed = redis_->command(
        {"EVAL", "return cmsgpack.pack(cmsgpack.unpack(redis.call('GET', KEYS[1])))", "1",
         live_key(kVid)});
    ASSERT_EQ(packed.kind, '$');
    ASSERT_NE(static_cast<unsigned char>(packed.str[0]), 0xde);
    ASSERT_EQ(redis_->command({"SET", live_key(kVid), packed.str}).str, "OK");
    apply({view("SKU-0", kT0 + 30000)});
    EXPECT_EQ(viewed(),
              skus({0, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
    EXPECT_EQ(static_cast<unsigned char>(live_[0]), 0xde);
}

}  // namespace
}  // namespace tailor
