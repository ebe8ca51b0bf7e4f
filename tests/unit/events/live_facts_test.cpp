// LiveFacts carried from the encoder: exactly what live_facts() reads back from the blob, through a
// copy of the blob (PackedLiveFacts), and the same batch whether carried or read.
#include "tailor/events/live_facts.h"

#include <gtest/gtest.h>

#include <deque>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "tailor/events/delivery.h"
#include "tailor/events/event.h"
#include "tailor/events/live.h"

namespace tailor {
namespace {

// Views compare by place in their blob, not only by content.
void expect_same_facts(const LiveFacts& got, const LiveFacts& want, std::string_view got_blob,
                       std::string_view want_blob, const std::string& what) {
    const auto same = [&](std::string_view g, std::string_view w, const char* field) {
        EXPECT_EQ(g, w) << what << " " << field;
        if (!g.empty() && !w.empty()) {
            EXPECT_EQ(g.data() - got_blob.data(), w.data() - want_blob.data()) << what << field;
        }
    };
    same(got.type, want.type, "type");
    same(got.vid, want.vid, "vid");
    same(got.previous_vid, want.previous_vid, "prev");
    same(got.src, want.src, "src");
    same(got.category, want.category, "category");
    same(got.product_id, want.product_id, "product_id");
    same(got.product_id_klaviyo, want.product_id_klaviyo, "ProductID");
    same(got.sku, want.sku, "sku");
    EXPECT_EQ(got.time_s, want.time_s) << what;
    EXPECT_EQ(got.has_seq, want.has_seq) << what;
    if (want.has_seq) {
        EXPECT_EQ(got.seq_integer, want.seq_integer) << what;
        EXPECT_EQ(got.seq_int, want.seq_int) << what;
        EXPECT_EQ(got.seq, want.seq) << what;
    }
    EXPECT_EQ(got.has_price, want.has_price) << what;
    if (want.has_price) {
        EXPECT_EQ(got.price, want.price) << what;
    }
    EXPECT_EQ(got.has_qty, want.has_qty) << what;
    if (want.has_qty) {
        EXPECT_EQ(got.qty, want.qty) << what;
    }
}

// Random events over what the facts depend on: the fact properties under every spelling,
// as text and as numbers (valid, not, out of range), repeated, empty, invalid UTF-8, cut.
struct RandomEvents {
    std::mt19937 rng{12};
    std::deque<std::string> store;

    std::string_view keep(std::string s) {
        store.push_back(std::move(s));
        return store.back();
    }
    std::string text(size_t max) {
        std::string s;
        const size_t n = rng() % (max + 1);
        for (size_t i = 0; i < n; ++i) {
            const unsigned r = rng() % 40;
            s.push_back(r == 0 ? '\xC3' : r == 1 ? '\xFF' : static_cast<char>('a' + r % 26));
        }
        return s;
    }
    std::string_view name() {
        static const char* const kNames[] = {"product_id", "ProductID", "sku",  "category",
                                             "price",      "quantity",  "name", "products"};
        return rng() % 6 == 0 ? keep(text(45)) : std::string_view(kNames[rng() % 8]);
    }
    std::string_view value(bool number) {
        static const char* const kNumbers[] = {"19.99", "-5",
                                               "0",     "2",
                                               "1e3",   "abc",
                                               "",      "5000000000000000",
                                               "-0.5",  "12345678901234567890"};
        return number ? std::string_view(kNumbers[rng() % 10]) : keep(text(rng() % 8 ? 12 : 300));
    }
};

TEST(LiveFactsCarried, AreWhatLiveFactsReadsBackFromTheBlob) {
    RandomEvents g;
    const EventType types[] = {EventType::kPageViewed,     EventType::kProductViewed,
                               EventType::kProductAdded,   EventType::kProductRemoved,
                               EventType::kOrderCompleted, EventType::kIdentify};
    for (int k = 0; k < 3000; ++k) {
        EventProperty props[kMaxEventProperties + 4];
        const size_t n = g.rng() % (kMaxEventProperties + 4);
        for (size_t i = 0; i < n; ++i) {
            const bool number = g.rng() % 2 == 0;
            props[i] = {g.name(), g.value(number),
                        number ? PropertyKind::kNumber : PropertyKind::kString};
        }
        Event e(*EventId::generate(1718000000123));
        e.type = types[g.rng() % 6];
        e.vid = "q3Zf0x8W2mYbT1kL9cVn_A";
        e.ts_ms = g.rng() % 10 == 0 ? 1000000000000000 + g.rng() : 1718000000123 + g.rng();
        e.path = "/p";
        e.properties = props;
        e.property_count = n;
        e.producer = g.rng() % 4 ? g.keep(g.text(80)) : std::string_view();
        e.seq = g.rng() % 5 == 0 ? (uint64_t{1} << 50) + g.rng() : g.rng();
        e.previous_vid = g.rng() % 4 == 0 ? "cust_0000012345678" : "";

        std::string blob = "prefix";  // facts view what was appended
        LiveFacts carried;
        ASSERT_EQ(encode_event(e, &blob, &carried).status, EncodeStatus::kOk);
        const std::string_view appended = std::string_view(blob).substr(6);
        const std::optional<LiveFacts> read = live_facts(appended);
        ASSERT_TRUE(read.has_value());
        const std::string what = "event " + std::to_string(k);
        expect_same_facts(carried, *read, appended, appended, what);

        // packed against the blob, unpacked against a copy of it: the same facts, in the copy
        PackedLiveFacts packed;
        ASSERT_TRUE(packed.pack(carried, appended));
        const std::string copy(appended);
        expect_same_facts(packed.unpack(copy), *read, copy, appended, what + " (copy)");
    }
}

TEST(LiveFactsCarried, PackRefusesViewsOutsideTheBlob) {
    const std::string blob = "abcdef";
    const std::string other = "vid";
    LiveFacts f;
    f.type = std::string_view(blob).substr(1, 2);
    PackedLiveFacts p;
    EXPECT_TRUE(p.pack(f, blob));
    f.vid = other;
    EXPECT_FALSE(p.pack(f, blob));
    f.vid = std::string_view(blob).substr(4, 2);
    EXPECT_TRUE(p.pack(f, blob));
    EXPECT_EQ(p.unpack(blob).vid, "ef");
    EXPECT_EQ(p.unpack("abc").vid, "") << "a shorter blob yields no view past its end";
}

// The same events through Delivery, with and without their facts: the same command.
TEST(LiveFactsCarried, TheBatchIsTheSameWhetherFactsAreCarriedOrRead) {
    DeliveryOptions opts;
    opts.live.stream.key = "s";
    opts.batch_events = 4;
    Delivery with(opts);
    Delivery without(opts);
    const EventProperty props[] = {
        {"product_id", "SKU-1"}, {"price", "19.99", PropertyKind::kNumber}, {"category", "Shirts"}};
    for (int round = 0; round < 3; ++round) {
        for (int i = 0; i < 6; ++i) {
            Event e(*EventId::generate(1718000000123 + i));
            e.type = i % 2 ? EventType::kProductViewed : EventType::kPageViewed;
            e.vid = i % 3 ? "q3Zf0x8W2mYbT1kL9cVn_A" : "cust_0000012345678";
            e.ts_ms = 1718000000123 + i * 1000;
            e.properties = props;
            e.property_count = i % 2 ? 3 : 0;
            e.producer = "w0";
            e.seq = static_cast<uint64_t>(round * 6 + i + 1);
            std::string blob;
            LiveFacts facts;
            ASSERT_EQ(encode_event(e, &blob, &facts).status, EncodeStatus::kOk);
            (void)with.enqueue(blob, &facts);
            blob += "junk";  // the queue copied the blob: the caller's buffer is its own
            (void)without.enqueue(std::string_view(blob).substr(0, blob.size() - 4));
        }
        for (int batch = 0; batch < 2; ++batch) {
            ASSERT_EQ(with.next(true), DeliveryStep::kSend);
            ASSERT_EQ(without.next(true), DeliveryStep::kSend);
            EXPECT_EQ(with.batch().resp(), without.batch().resp()) << round << " " << batch;
            if (round == 1 && batch == 0) {
                with.failed();  // requeued: sent again, its facts read from the blob
                without.failed();
                continue;
            }
            const std::vector<LiveResult> ok(with.batch().events(), LiveResult::kApplied);
            with.answered(ok.data(), ok.size());
            without.answered(ok.data(), ok.size());
        }
    }
}

}  // namespace
}  // namespace tailor
