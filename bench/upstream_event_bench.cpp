// UpstreamEvent benches: the upstream's event header parsed and checked (a 3-line order), its
// refusal (personal data in the last line), and the bare JSON reader on the same bytes.
#include <benchmark/benchmark.h>

#include <string>

#include "tailor/base/json_reader.h"
#include "tailor/events/upstream_event.h"

namespace {

std::string order_header(bool personal) {
    return std::string(R"({"event":"Order Completed","properties":{"order_id":"A-10042",)") +
           R"("revenue":74.5,"currency":"EUR","coupon":"SPRING10","products":[)" +
           R"({"product_id":"MUG-1","name":"Blue Mug","price":21.25,"quantity":2},)" +
           R"({"product_id":"BEANS-2","name":"House Beans 1kg","price":19.5,"quantity":1},)" +
           R"({"product_id":"FILTER-3","name":")" + (personal ? "ann@example.com" : "Filters") +
           R"(","price":12.5,"quantity":1}]}})";
}

void BM_UpstreamEvent_ParseOrder(benchmark::State& state) {
    const std::string header = order_header(false);
    tailor::UpstreamEvent e;
    for (auto _ : state) {
        benchmark::DoNotOptimize(tailor::parse_upstream_event(header, 4096, &e));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * header.size()));
}
BENCHMARK(BM_UpstreamEvent_ParseOrder);

void BM_UpstreamEvent_ParseOrder_Fail(benchmark::State& state) {
    const std::string header = order_header(true);
    tailor::UpstreamEvent e;
    for (auto _ : state) {
        benchmark::DoNotOptimize(tailor::parse_upstream_event(header, 4096, &e));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * header.size()));
}
BENCHMARK(BM_UpstreamEvent_ParseOrder_Fail);

void BM_JsonReader_Order(benchmark::State& state) {
    const std::string header = order_header(false);
    tailor::JsonDocument doc;
    for (auto _ : state) {
        benchmark::DoNotOptimize(doc.parse(header));
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * header.size()));
}
BENCHMARK(BM_JsonReader_Order);

}  // namespace
