// Event and Spool benches: encoding a typical browse event, decoding it, routing it into an
// EVALSHA batch, and appending it to the on-disk spool.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <cstring>
#include <filesystem>
#include <string>

#include "tailor/events/event.h"
#include "tailor/events/cluster_batch.h"
#include "tailor/events/live.h"
#include "tailor/events/path.h"
#include "tailor/events/spool.h"

namespace {

constexpr int64_t kNow = 1718000000123;

// A Product Viewed with 4 properties and 2 exposures, as the glue fills it.
struct Typical {
    tailor::EventProperty props[4] = {{"product_id", "SKU-1042"},
                                      {"price", "19.99", tailor::PropertyKind::kNumber},
                                      {"quantity", "1", tailor::PropertyKind::kNumber},
                                      {"category", "Shirts"}};
    tailor::EventExposure exposures[2] = {{"hero-returning", "hero_copy", "b"},
                                          {"reorder", "reorder_nudge", "holdout"}};
    tailor::Attribution attribution = tailor::attribution_from_request(
        "utm_source=newsletter&utm_medium=email&utm_campaign=spring", "https://mail.google.com/",
        "shop.example");
    tailor::Event event{*tailor::EventId::generate(kNow)};

    Typical() {
        event.type = tailor::EventType::kProductViewed;
        event.vid = "q3Zf0x8W2mYbT1kL9cVn_A";
        event.ts_ms = kNow;
        event.path = "/products/linen-shirt?color=blue";
        event.attribution = &attribution;
        event.device = tailor::DeviceClass::kMobile;
        event.exposures = exposures;
        event.exposure_count = 2;
        event.properties = props;
        event.property_count = 4;
        event.producer = "w0-abcdef";
        event.seq = 42;
    }
};

std::string typical_blob() {
    Typical t;
    std::string blob;
    (void)tailor::encode_event(t.event, &blob);
    return blob;
}

void BM_Memcpy_EventSized(benchmark::State& state) {
    const std::string blob = typical_blob();
    std::string out(blob.size(), '\0');
    for (auto _ : state) {
        std::memcpy(out.data(), blob.data(), blob.size());
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Memcpy_EventSized);

void BM_Event_Encode(benchmark::State& state) {
    Typical t;
    std::string blob;
    for (auto _ : state) {
        blob.clear();
        benchmark::DoNotOptimize(tailor::encode_event(t.event, &blob));
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(blob.size()));
    state.counters["blob_bytes"] = static_cast<double>(blob.size());
}
BENCHMARK(BM_Event_Encode);

// What the log phase pays in all: id, path filtering, attribution, device
// class and the encoding.
void BM_Event_BuildAndEncode(benchmark::State& state) {
    Typical t;
    const tailor::SensitiveQuery sensitive;
    std::string path;
    std::string blob;
    for (auto _ : state) {
        tailor::Event e(*tailor::EventId::generate(kNow));
        path.clear();
        (void)tailor::append_event_path(&path, "/products/linen-shirt?color=blue&_kx=abc.def",
                                        sensitive);
        const tailor::Attribution a =
            tailor::attribution_from_request("color=blue&utm_source=newsletter&utm_medium=email",
                                             "https://mail.google.com/", "shop.example");
        e = t.event;
        e.path = path;
        e.attribution = &a;
        e.device = tailor::classify_device(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1");
        blob.clear();
        benchmark::DoNotOptimize(tailor::encode_event(e, &blob));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Event_BuildAndEncode);

void BM_EventId_Generate(benchmark::State& state) {
    for (auto _ : state) {
        benchmark::DoNotOptimize(tailor::EventId::generate(kNow));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_EventId_Generate);

void BM_Event_Decode(benchmark::State& state) {
    const std::string blob = typical_blob();
    for (auto _ : state) {
        benchmark::DoNotOptimize(tailor::decode_event(blob));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Event_Decode);

void BM_Event_Decode_Fail(benchmark::State& state) {
    std::string blob = typical_blob();
    blob.pop_back();
    for (auto _ : state) {
        benchmark::DoNotOptimize(tailor::decode_event(blob));
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Event_Decode_Fail);

// Per-event cost of laying out an EVALSHA batch of `range` events from 16
// visitors.
void BM_LiveBatch_Build(benchmark::State& state) {
    std::vector<std::string> blobs;
    for (int i = 0; i < state.range(0); ++i) {
        Typical t;
        const std::string vid = "visitor-" + std::to_string(i % 16) + "-xxxxxxxxxxxx";
        t.event.vid = vid;
        std::string b;
        (void)tailor::encode_event(t.event, &b);
        blobs.push_back(std::move(b));
    }
    tailor::LiveBatch batch;
    const tailor::LiveConfig config;
    for (auto _ : state) {
        batch.reset(config);
        for (const std::string& b : blobs) {
            benchmark::DoNotOptimize(batch.add(b));
        }
        benchmark::DoNotOptimize(batch.finish());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LiveBatch_Build)->Arg(64)->Arg(256);

// Per-event cost of splitting such a batch for a Redis Cluster (8 shards): the live parts per
// visitor slot, then (every event answered new) the shard appends, on top of the batch itself.
void BM_ClusterBatch_Split(benchmark::State& state) {
    std::vector<std::string> blobs;
    for (int i = 0; i < state.range(0); ++i) {
        Typical t;
        const std::string vid = "visitor-" + std::to_string(i % 16) + "-xxxxxxxxxxxx";
        t.event.vid = vid;
        std::string b;
        (void)tailor::encode_event(t.event, &b);
        blobs.push_back(std::move(b));
    }
    tailor::LiveConfig config;
    config.append_to_stream = false;
    tailor::LiveBatch batch;
    batch.reset(config);
    for (const std::string& b : blobs) {
        (void)batch.add(b);
    }
    (void)batch.finish();
    tailor::ClusterBatch split;
    for (auto _ : state) {
        benchmark::DoNotOptimize(split.build(batch, config, 8));
        for (size_t i = 0; i < split.live_parts(); ++i) {
            const std::string ones(split.live(i).events(), '1');
            benchmark::DoNotOptimize(split.live_answered(i, ones));
        }
        benchmark::DoNotOptimize(split.build_streams());
    }
    state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ClusterBatch_Split)->Arg(64)->Arg(256);

void BM_Crc32c(benchmark::State& state) {
    const std::string blob = typical_blob();
    for (auto _ : state) {
        benchmark::DoNotOptimize(tailor::crc32c(0, blob.data(), blob.size()));
    }
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(blob.size()));
}
BENCHMARK(BM_Crc32c);

// One typical event appended to a spool on local disk (page cache, no
// fsync): what the log phase pays per event while Redis is down.
void BM_Spool_Append(benchmark::State& state) {
    std::string templ =
        (std::filesystem::temp_directory_path() / "tailor-spool-bench-XXXXXX").string();
    const std::string dir = ::mkdtemp(templ.data());
    tailor::SpoolOptions options;
    options.dir = dir + "/w0";
    const std::string blob = typical_blob();
    tailor::SpoolError error;
    auto spool = tailor::Spool::open(options, &error);
    if (!spool) {
        state.SkipWithError("cannot open the spool");
        return;
    }
    for (auto _ : state) {
        benchmark::DoNotOptimize(spool->append(blob));
    }
    state.SetItemsProcessed(state.iterations());
    state.SetBytesProcessed(state.iterations() * static_cast<int64_t>(blob.size()));
    state.counters["dropped"] = static_cast<double>(spool->stats().dropped);
    spool.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Spool_Append);

// Replaying: peek 256 records and commit them.
void BM_Spool_Replay(benchmark::State& state) {
    std::string templ =
        (std::filesystem::temp_directory_path() / "tailor-spool-bench-XXXXXX").string();
    const std::string dir = ::mkdtemp(templ.data());
    tailor::SpoolOptions options;
    options.dir = dir + "/w0";
    const std::string blob = typical_blob();
    tailor::SpoolError error;
    auto spool = tailor::Spool::open(options, &error);
    tailor::SpoolBatch batch;
    int64_t records = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (int i = 0; i < 256; ++i) {
            (void)spool->append(blob);
        }
        state.ResumeTiming();
        while (spool->peek(256, 256 * 1024, &batch)) {
            records += static_cast<int64_t>(batch.records().size());
            benchmark::DoNotOptimize(spool->commit(batch));
        }
    }
    state.SetItemsProcessed(records);
    spool.reset();
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Spool_Replay);

// Opening a full spool (the default 64 MiB of typical events, page cache
// warm): what a worker pays once at start, or when it adopts an orphan.
void BM_Spool_Open_Full(benchmark::State& state) {
    std::string templ =
        (std::filesystem::temp_directory_path() / "tailor-spool-bench-XXXXXX").string();
    const std::string dir = ::mkdtemp(templ.data());
    tailor::SpoolOptions options;
    options.dir = dir + "/w0";
    options.max_bytes = 64ull * 1024 * 1024;
    const std::string blob = typical_blob();
    tailor::SpoolError error;
    {
        auto spool = tailor::Spool::open(options, &error);
        if (!spool) {
            state.SkipWithError("cannot open the spool");
            return;
        }
        while (spool->stats().disk_bytes + blob.size() + 64 < options.max_bytes) {
            (void)spool->append(blob);
        }
    }
    uint64_t records = 0;
    for (auto _ : state) {
        auto spool = tailor::Spool::open(options, &error);
        records = spool ? spool->stats().pending_records : 0;
        benchmark::DoNotOptimize(spool);
    }
    state.counters["records"] = static_cast<double>(records);
    std::filesystem::remove_all(dir);
}
BENCHMARK(BM_Spool_Open_Full)->Unit(benchmark::kMillisecond);

}  // namespace
