// LiveMapEdit against the live script on a real redis-server: the same stored map and the same
// events must give the same bytes, whether nginx edits them (LiveMapEdit) or the script does
// (live_script_bytes.h); and what the script decodes the map for voids nginx's edit.
#include "tailor/events/live_edit.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "live_edit_fixture.h"

namespace tailor {
namespace {

TEST_F(LiveMapEditTest, AProductViewIsSplicedAsTheScriptSplicesIt) {
    seed();
    EXPECT_TRUE(both({view("NEW-1", kT0 + 30000)}));                // new: the oldest goes
    EXPECT_TRUE(both({view("SKU-12", kT0 + 31000, "", "")}));       // seen: moved first
    EXPECT_TRUE(both({view("SKU-12", kT0 + 31000, "", "")}));       // first already
    EXPECT_TRUE(both({view("SKU-15", kT0 + 32000, "Hats", "7")}));  // its facts change too
    EXPECT_TRUE(both({view("NEW-2", kT0 + 32000), view("SKU-19", kT0 + 33000),
                      view("NEW-2", kT0 + 33000)}));  // one batch: each on the last one's bytes
}

TEST_F(LiveMapEditTest, APageViewInTheSameVisitPatchesLastSeenAsTheScriptDoes) {
    seed();
    EXPECT_TRUE(both({page(kT0 + 60000)}));
    EXPECT_TRUE(both({page(kT0 + 60000), page(kT0 + 60500)}));  // the same second: unchanged
    EXPECT_TRUE(both({page(kT0 + 61000), view("SKU-3", kT0 + 62000), page(kT0 + 63000)}));
}

TEST_F(LiveMapEditTest, WhatTheScriptDecodesTheMapForVoidsTheEdit) {
    LiveMapEdit e;
    (void)run({view("SKU-1", kT0)});
    EXPECT_FALSE(edit(&e, live_of(kVid), {view("SKU-2", kT0 + 1000)}))
        << "a visitor's first map is plain cmsgpack";
    seed();
    const std::string stored = live_of(kVid);
    EXPECT_FALSE(edit(&e, "", {page(kT0 + 20000)})) << "no map";
    EXPECT_FALSE(edit(&e, stored + std::string(kMaxLiveEditBytes, ' '), {page(kT0 + 20000)}))
        << "a map over kMaxLiveEditBytes";
    EXPECT_FALSE(edit(&e, stored, {page(kT0 + 19000 + 1801 * 1000)})) << "a new visit";
    EXPECT_FALSE(
        edit(&e, stored,
             {event(EventType::kProductAdded, kVid, kT0 + 20000, {{"product_id", "SKU-1"}})}))
        << "a cart change";
    EXPECT_FALSE(edit(&e, stored, {event(EventType::kOrderCompleted, kVid, kT0 + 20000)}));
    EXPECT_FALSE(edit(&e, stored, {view("SKU-1", kT0 + 20000, "Shirts", "50000000")}))
        << "a price over 32 bits";
    EXPECT_FALSE(edit(&e, stored, {page(kT0 + 20000), view("\xc2\xa3sku", kT0 + 20000)}))
        << "a product id that looks like an entry (\"£sku\")";
    EXPECT_FALSE(e.ok());
    EXPECT_FALSE(e.apply("Page Viewed", (kT0 + 20000) / 1000, "", "", std::nullopt))
        << "void until start()";
    EXPECT_TRUE(edit(&e, stored, {page(kT0 + 20000)}));
    EXPECT_TRUE(e.ok());
}

// Random batches of page and product views over 30 products (the list of 20 full, products in
// and out of it), repeats in the same second, new visits, prices past 32 bits: wherever nginx's
// edit applies, it is the script's, byte for byte.
TEST_F(LiveMapEditTest, RandomBatchesGiveTheScriptsBytes) {
    seed();
    std::mt19937 rng(20261204);
    const std::vector<std::string> categories = {"", "Shirts", "Hats", std::string(40, 'c')};
    const std::vector<std::string> prices = {"", "19.99", "700.5", "0", "50000000"};
    int64_t t = kT0 + 20000;
    int applied = 0;
    int voided = 0;
    for (int round = 0; round < 300; ++round) {
        std::vector<std::string> blobs;
        const int n = 1 + static_cast<int>(rng() % 4);
        for (int k = 0; k < n; ++k) {
            const unsigned step = rng() % 100;
            t += step < 30 ? 0 : step < 97 ? 1000 * (rng() % 120) : 1000 * 1801;
            if (rng() % 3 == 0) {
                blobs.push_back(page(t));
            } else {
                // one draw per statement: the order of a call's arguments is unspecified
                const unsigned product = rng() % 30;
                const std::string& category = categories[rng() % categories.size()];
                const bool over_32_bits = rng() % 8 == 0;  // the last price
                const std::string& price = prices[rng() % (prices.size() - (over_32_bits ? 0 : 1))];
                blobs.push_back(view("SKU-" + std::to_string(product), t, category, price));
            }
        }
        (both(blobs) ? applied : voided)++;
        if (HasFailure()) {
            break;
        }
    }
    EXPECT_GT(applied, 150) << "voided " << voided;  // 210 and 90 (the draws are fixed)
    EXPECT_GT(voided, 5);
}

}  // namespace
}  // namespace tailor
