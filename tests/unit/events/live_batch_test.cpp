// EventLiveBatch: the EVALSHA argv and RESP that LiveBatch builds, without a Redis (the script
// itself runs against a real redis-server in live_test.cpp and its siblings, event_live.h).
#include "tailor/events/live.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tailor/events/event.h"

namespace tailor {
namespace {

constexpr std::string_view kVid = "q3Zf0x8W2mYbT1kL9cVn_A";
constexpr int64_t kT0 = 1718000000000;  // ms

std::vector<std::string> args_of(LiveBatch& batch) {
    std::vector<std::string> args;
    for (int i = 0; i < batch.argc(); ++i) {
        args.emplace_back(batch.argv()[i], batch.argvlen()[i]);
    }
    return args;
}

std::string page_view(std::string_view vid) {
    Event e(*EventId::generate(kT0));
    e.vid = vid;
    e.ts_ms = kT0;
    std::string blob;
    EXPECT_EQ(encode_event(e, &blob).status, EncodeStatus::kOk);
    return blob;
}

// A live map in the layout nginx edits (LiveMapEdit): page_view()'s second is its last_seen.
std::string editable_map() {
    auto u32 = [](uint32_t x) {
        std::string out(1, '\xce');
        for (int i = 3; i >= 0; --i) {
            out.push_back(static_cast<char>(x >> (8 * i)));
        }
        return out;
    };
    const auto t = static_cast<uint32_t>(kT0 / 1000);
    std::string m("\xde\x00\x06", 3);
    m += "\xa3rev" + u32(t);
    m += std::string("\xa6viewed\x90", 8);
    m += std::string("\xa1v\x01", 3);
    m += "\xaa"
         "first_seen" +
         u32(t - 60);
    m += "\xa9last_seen" + u32(t);
    m += std::string(
        "\xab"
        "acquisition\x80",
        13);
    return m;
}

TEST(EventLiveBatch, ProductFactsTravelBesideTheBlob) {
    LiveConfig config;
    config.stream.key = "s";
    LiveBatch batch;
    batch.reset(config);
    const EventProperty props[] = {{"category", "Shirts"},
                                   {"product_id", "SKU-1"},
                                   {"price", "19.99", PropertyKind::kNumber},
                                   {"quantity", "0", PropertyKind::kNumber}};
    Event e(*EventId::generate(kT0));
    e.type = EventType::kProductAdded;
    e.vid = kVid;
    e.ts_ms = kT0 + 999;
    e.properties = props;
    e.property_count = 4;
    e.producer = "w0";
    e.seq = 42;
    std::string a;
    ASSERT_EQ(encode_event(e, &a).status, EncodeStatus::kOk);
    ASSERT_TRUE(batch.add(a));
    ASSERT_TRUE(batch.finish());
    const std::vector<std::string> args = args_of(batch);
    // keys: the stream, the visitor's live and ev, the producer's watermark
    EXPECT_EQ(args[2], "4");
    EXPECT_EQ(args[6], "s:seq:w0");
    EXPECT_EQ(args[7], "6");      // the format
    EXPECT_EQ(args[7 + 7], "1");  // one producer
    const size_t first = 3 + 4 + LiveBatch::kFixedArgs;
    ASSERT_EQ(args.size(), first + 4 + 1 + 4 + 3);
    // the producer: its name, first and last seq, its events' seqs; no edit (nginx read no
    // map); then the event: key, time, type, blob, and a cart change's product id, price,
    // quantity
    const std::vector<std::string> want = {
        "w0", "42",    "42",   "1 42", "0", "2", std::to_string(kT0 / 1000), "Product Added",
        a,    "SKU-1", "1999", "1"};  // quantity 0 counts as 1, as the script always did
    EXPECT_EQ(std::vector<std::string>(args.begin() + first, args.end()), want);
}

TEST(EventLiveBatch, ArgvLayout) {
    LiveConfig config;
    config.stream.key = "s";
    LiveBatch batch;
    batch.reset(config);
    Event e(*EventId::generate(kT0));
    e.vid = kVid;
    e.ts_ms = kT0;
    std::string a;
    ASSERT_EQ(encode_event(e, &a).status, EncodeStatus::kOk);
    ASSERT_TRUE(batch.add(a));
    ASSERT_TRUE(batch.add(a));  // same visitor: keys once
    ASSERT_TRUE(batch.finish());
    const std::vector<std::string> args = args_of(batch);
    const std::string t = std::to_string(kT0 / 1000);
    const std::vector<std::string> want = {
        "EVALSHA", std::string(live_script_sha1()), "3", "s", live_key(kVid), live_ev_key(kVid),
        "6", "s", "1000000", "7776000", "20", "50", "1800", "0",  // no producer
        "0",                                                      // no edit
        // per event: key, time, type, blob (a page view needs nothing more); the second
        // repeats the first's facts: "=" and its blob
        "2", t, "Page Viewed", a,  //
        "=", a};
    EXPECT_EQ(args, want);
    EXPECT_EQ(live_script_sha1().size(), 40u);

    // the same command in RESP, as hiredis would write it
    std::string resp = "*" + std::to_string(want.size()) + "\r\n";
    for (const std::string& arg : want) {
        resp += "$" + std::to_string(arg.size()) + "\r\n" + arg + "\r\n";
    }
    EXPECT_EQ(batch.resp(), resp);
    batch.use_eval();
    EXPECT_EQ(batch.resp().substr(0, 15), "*" + std::to_string(want.size()) + "\r\n$4\r\nEVAL\r\n");
}

// Many visitors, some twice, over batches that reuse one LiveBatch: each visitor's keys
// are in KEYS once, and each event points at its own visitor's.
TEST(EventLiveBatch, EachVisitorGetsItsKeysOnceAcrossBatchesOfManyVisitors) {
    LiveConfig config;
    config.stream.key = "s";
    LiveBatch batch;
    for (size_t visitors : {3, 200, 1, 90}) {
        std::vector<std::string> blobs;
        for (size_t i = 0; i < 2 * visitors; ++i) {
            std::string vid = "visitor" + std::to_string(i % visitors);
            vid.resize(22, 'x');
            blobs.push_back(page_view(vid));
        }
        batch.reset(config);
        for (const std::string& b : blobs) {
            ASSERT_TRUE(batch.add(b));
        }
        ASSERT_TRUE(batch.finish());
        const std::vector<std::string> args = args_of(batch);
        // EVALSHA sha numkeys stream, the visitors' live and ev keys, no watermark (no src)
        ASSERT_EQ(args[2], std::to_string(1 + 2 * visitors));
        // no edit (no map read); then per event: key, time, type, blob; or "=" and its blob
        // when it repeats the facts of the event before it (one visitor's two page views in a
        // row)
        size_t at = 4 + 2 * visitors + LiveBatch::kFixedArgs;
        ASSERT_EQ(args[at++], "0");
        size_t key = 0;
        for (size_t e = 0; e < blobs.size(); ++e) {
            std::string vid = "visitor" + std::to_string(e % visitors);
            vid.resize(22, 'x');
            ASSERT_LT(at + 1, args.size());
            if (args[at] == "=") {
                ASSERT_GT(e, 0u);
                EXPECT_EQ(visitors, 1u) << "only a visitor's own page views make a run";
                EXPECT_EQ(args[at + 1], blobs[e]);
                at += 2;
            } else {
                key = std::stoul(args[at]);
                EXPECT_EQ(args[at + 3], blobs[e]);
                at += 4;
            }
            ASSERT_GE(key, 2u);
            EXPECT_EQ(args[2 + key], live_key(vid)) << "event " << e;
            EXPECT_EQ(args[3 + key], live_ev_key(vid)) << "event " << e;
        }
        EXPECT_EQ(at, args.size());
    }
}

// The visitor cap: a batch takes more events of the visitors it holds, but no new visitor
// past max_visitors, and says so (full()) until reset.
TEST(EventLiveBatch, AVisitorCapRefusesANewVisitorButTakesMoreOfItsOwn) {
    LiveConfig config;
    config.stream.key = "s";
    config.max_visitors = 2;
    auto vid = [](char c) { return std::string(22, c); };
    const std::string a = page_view(vid('a')), b = page_view(vid('b')), c = page_view(vid('c'));
    LiveBatch batch;
    batch.reset(config);
    ASSERT_TRUE(batch.add(a));
    ASSERT_TRUE(batch.add(b));
    EXPECT_FALSE(batch.full());
    EXPECT_FALSE(batch.add(c));
    EXPECT_TRUE(batch.full());
    EXPECT_TRUE(batch.add(a)) << "a visitor the batch holds";
    EXPECT_TRUE(batch.add(b));
    EXPECT_EQ(batch.events(), 4u);
    ASSERT_TRUE(batch.finish());
    const std::vector<std::string> args = args_of(batch);
    EXPECT_EQ(args[2], "5");  // the stream and two visitors' keys

    batch.reset(config);
    EXPECT_FALSE(batch.full());
    EXPECT_TRUE(batch.add(c));

    config.max_visitors = 0;         // no cap
    std::vector<std::string> blobs;  // the batch views them
    for (char v = 'a'; v <= 'z'; ++v) {
        blobs.push_back(page_view(vid(v)));
    }
    batch.reset(config);
    for (const std::string& blob : blobs) {
        ASSERT_TRUE(batch.add(blob));
    }
    EXPECT_FALSE(batch.full());
}

// A visitor that comes with the map its request read counts a quarter against the cap: nginx
// edits that map, and Redis only stores it. One without counts whole.
TEST(EventLiveBatch, AVisitorWithItsMapReadCountsAQuarterOfTheCap) {
    LiveConfig config;
    config.stream.key = "s";
    config.max_visitors = 2;
    std::vector<std::string> blobs;  // the batch views them
    for (char v = 'a'; v <= 'j'; ++v) {
        blobs.push_back(page_view(std::string(22, v)));
    }
    const std::string read = editable_map();
    LiveBatch batch;
    batch.reset(config);
    for (size_t i = 0; i < 8; ++i) {
        ASSERT_TRUE(batch.add(blobs[i], nullptr, read)) << i;
    }
    EXPECT_FALSE(batch.add(blobs[8], nullptr, read)) << "8 quarters: the cap of 2";
    EXPECT_TRUE(batch.full());

    batch.reset(config);
    ASSERT_TRUE(batch.add(blobs[0]));  // a whole one
    for (size_t i = 1; i < 5; ++i) {
        ASSERT_TRUE(batch.add(blobs[i], nullptr, read)) << i;
    }
    EXPECT_FALSE(batch.add(blobs[5], nullptr, read));
    EXPECT_FALSE(batch.add(blobs[6])) << "nor a whole one";

    // a map nginx cannot edit: the script edits it, and it counts whole
    batch.reset(config);
    ASSERT_TRUE(batch.add(blobs[0], nullptr, "\x81\xa1v\x01"));
    ASSERT_TRUE(batch.add(blobs[1], nullptr, "\x81\xa1v\x01"));
    EXPECT_FALSE(batch.add(blobs[2], nullptr, read)) << "two whole ones: the cap";

    config.append_to_stream = false;  // Redis Cluster: the script edits every map there
    batch.reset(config);
    ASSERT_TRUE(batch.add(blobs[0], nullptr, read));
    ASSERT_TRUE(batch.add(blobs[1], nullptr, read));
    EXPECT_FALSE(batch.add(blobs[2], nullptr, read));
}

// A visitor counted a quarter whose next event nginx's edit cannot make (a cart change) would
// count whole: refused when that is over the cap. An Identify's new previous visitor counts
// whole (the script loads its map).
TEST(EventLiveBatch, AVisitorsWeightIsCheckedAgainstTheCapWhenItGrows) {
    LiveConfig config;
    config.stream.key = "s";
    config.max_visitors = 1;  // 4 quarters
    const std::string read = editable_map();
    auto vid = [](char c) { return std::string(22, c); };
    const std::string a = page_view(vid('a')), b = page_view(vid('b'));
    const std::string vid_a = vid('a'), vid_c = vid('c'), vid_d = vid('d');  // Event views them
    Event added(*EventId::generate(kT0));
    added.type = EventType::kProductAdded;
    added.vid = vid_a;
    added.ts_ms = kT0;
    const EventProperty props[] = {{"product_id", "A"}};
    added.properties = props;
    added.property_count = 1;
    std::string cart;
    ASSERT_EQ(encode_event(added, &cart).status, EncodeStatus::kOk);

    LiveBatch batch;
    batch.reset(config);
    ASSERT_TRUE(batch.add(a, nullptr, read));
    ASSERT_TRUE(batch.add(b, nullptr, read));  // 2 quarters
    EXPECT_FALSE(batch.add(cart, nullptr, read)) << "a's cart change: 2 + 3 quarters";
    EXPECT_TRUE(batch.full());

    batch.reset(config);
    ASSERT_TRUE(batch.add(a, nullptr, read));
    EXPECT_TRUE(batch.add(cart, nullptr, read)) << "1 + 3 quarters: at the cap";
    EXPECT_FALSE(batch.add(b, nullptr, read)) << "no room for another";

    Event identify(*EventId::generate(kT0));
    identify.type = EventType::kIdentify;
    identify.vid = vid_c;
    identify.previous_vid = vid_d;
    identify.ts_ms = kT0;
    std::string merge;
    ASSERT_EQ(encode_event(identify, &merge).status, EncodeStatus::kOk);
    config.max_visitors = 2;  // 8 quarters
    batch.reset(config);
    ASSERT_TRUE(batch.add(a, nullptr, read));
    EXPECT_FALSE(batch.add(merge, nullptr, read)) << "1 + 4 (c) + 4 (d, the previous one): 9";

    config.max_visitors = 3;  // 12 quarters
    const std::string e = page_view(vid('e')), f = page_view(vid('f')), g = page_view(vid('g'));
    batch.reset(config);
    ASSERT_TRUE(batch.add(a, nullptr, read));
    ASSERT_TRUE(batch.add(merge, nullptr, read));  // 9
    ASSERT_TRUE(batch.add(b, nullptr, read));
    ASSERT_TRUE(batch.add(e, nullptr, read));
    ASSERT_TRUE(batch.add(f, nullptr, read));  // 12
    EXPECT_FALSE(batch.add(g, nullptr, read));
}

// The seqs travel per producer: first, last and each event's, by its number in the batch (an
// event without a time is not listed: the script reports it invalid anyway).
TEST(EventLiveBatch, SeqsTravelPerProducer) {
    LiveConfig config;
    config.stream.key = "s";
    LiveBatch batch;
    batch.reset(config);
    std::vector<std::string> blobs;
    const std::pair<std::string_view, uint64_t> events[] = {{"w0", 7}, {"w1", 3}, {"w0", 9}};
    for (const auto& [producer, seq] : events) {
        Event e(*EventId::generate(kT0));
        e.vid = kVid;
        e.ts_ms = kT0;
        e.producer = producer;
        e.seq = seq;
        blobs.emplace_back();
        ASSERT_EQ(encode_event(e, &blobs.back()).status, EncodeStatus::kOk);
    }
    for (const std::string& b : blobs) {
        ASSERT_TRUE(batch.add(b));
    }
    ASSERT_TRUE(batch.finish());
    const std::vector<std::string> args = args_of(batch);
    EXPECT_EQ(args[6], "s:seq:w0");
    EXPECT_EQ(args[7], "s:seq:w1");
    EXPECT_EQ(args[8], "6");
    EXPECT_EQ(args[15], "2");
    EXPECT_EQ(std::vector<std::string>(args.begin() + 16, args.begin() + 24),
              (std::vector<std::string>{"w0", "7", "9", "1 7 3 9", "w1", "3", "3", "2 3"}));
    EXPECT_EQ(args[24], "0");  // no edit
    // the first event's facts, then "=" and a blob twice: each repeats the one before it
    EXPECT_EQ(std::vector<std::string>(args.begin() + 25, args.end()),
              (std::vector<std::string>{"2", std::to_string(kT0 / 1000), "Page Viewed", blobs[0],
                                        "=", blobs[1], "=", blobs[2]}));
    EXPECT_EQ(LiveBatch::extra_args("Product Viewed"), 3u);
    EXPECT_EQ(LiveBatch::extra_args("Identify"), 1u);
    EXPECT_EQ(LiveBatch::extra_args("Cart Viewed"), 0u);
}

}  // namespace
}  // namespace tailor
