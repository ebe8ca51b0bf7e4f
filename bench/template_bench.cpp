// Template, HtmlEscape and Experiment benches: the per-request costs of personalizing a page.
#include <benchmark/benchmark.h>

#include <cstring>
#include <string>
#include <string_view>

#include "tailor/decision/decision.h"
#include "tailor/decision/experiment.h"
#include "tailor/html/escape.h"
#include "tailor/html/template.h"

namespace {

// 1 KiB of storefront-like text: mostly clean ASCII, some markup characters,
// quotes and multi-byte UTF-8, as profile and product data look.
std::string mixed_text_1k() {
    const std::string piece =
        "Ann's picks: \"Linen shirt\" & <b>sandals</b> \xE2\x80\x94 "
        "bis zu 30\xE2\x80\xAF% g\xC3\xBCnstiger, only this week. ";
    std::string s;
    while (s.size() < 1024) {
        s += piece;
    }
    s.resize(1024);
    while ((static_cast<unsigned char>(s.back()) & 0xC0) == 0x80 ||
           static_cast<unsigned char>(s.back()) >= 0xC0) {
        s.back() = '.';  // do not end mid-sequence
    }
    return s;
}

struct Profile {
    std::string_view first_name = "Ann";
    std::string_view product = "Linen shirt & co";
    std::string_view points = "1200";

    bool operator()(std::string_view name, tailor::TemplateValue* value) const {
        if (name == "first_name") {
            value->text = first_name;
        } else if (name == "last_product") {
            value->text = product;
        } else if (name == "points") {
            value->text = points;
        } else {
            return false;
        }
        return true;
    }
};

void BM_Memcpy_1K(benchmark::State& state) {
    const std::string in = mixed_text_1k();
    std::string out;
    for (auto _ : state) {
        out.clear();
        out.append(in);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_Memcpy_1K);

void BM_HtmlEscape(benchmark::State& state) {
    const std::string in = mixed_text_1k();
    std::string out;
    for (auto _ : state) {
        out.clear();
        tailor::append_html_attribute(out, in);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_HtmlEscape);

void BM_HtmlEscape_Clean(benchmark::State& state) {
    const std::string in(1024, 'a');
    std::string out;
    for (auto _ : state) {
        out.clear();
        tailor::append_html_attribute(out, in);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_HtmlEscape_Clean);

void BM_JsonForScript(benchmark::State& state) {
    const std::string in = mixed_text_1k();
    std::string out;
    for (auto _ : state) {
        out.clear();
        tailor::append_json_for_script(out, in);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) *
                            static_cast<int64_t>(in.size()));
}
BENCHMARK(BM_JsonForScript);

constexpr std::string_view kThreeVariables =
    "<div class=\"tailor-hero\"><h2>Welcome back, {{first_name|there}}!</h2>"
    "<p>Ready to reorder <a href=\"/p/{{last_product}}\">{{last_product}}</a>? "
    "You have {{points}} points.</p></div>";

void BM_Template_Compile(benchmark::State& state) {
    for (auto _ : state) {
        auto t = tailor::compile_template(kThreeVariables, nullptr);
        benchmark::DoNotOptimize(t);
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Template_Compile);

void BM_Template_Render(benchmark::State& state) {
    const auto t = tailor::compile_template(kThreeVariables, nullptr);
    if (!t) {
        state.SkipWithError("template did not compile");
        return;
    }
    Profile profile;
    std::string out;
    for (auto _ : state) {
        out.clear();
        t->render_with(out, profile);
        benchmark::DoNotOptimize(out.data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Template_Render);

void BM_Experiment_Bucket(benchmark::State& state) {
    auto e = tailor::Experiment::create(
        {"hero_copy", "", 10, {{"control", 1}, {"short", 1}, {"long", 2}}}, nullptr);
    if (!e) {
        state.SkipWithError("experiment did not validate");
        return;
    }
    std::string vid = "6f1c2a9e0b7d4c3f8a21d0e5b9c47a10";
    uint32_t i = 0;
    for (auto _ : state) {
        vid[0] = static_cast<char>('a' + (i++ & 15));
        benchmark::DoNotOptimize(e->assign(vid));
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Experiment_Bucket);

// A typical per-request decision: two fills, directives, a variable, an exposure.
void BM_Decision_Build(benchmark::State& state) {
    const std::string hero(300, 'h');
    const std::string reorder(200, 'r');
    tailor::Decision d;
    for (auto _ : state) {
        d.clear();
        bool ok = d.set_slot("hero", hero);
        ok &= d.set_slot("reorder", reorder);
        d.set_directives_json(R"({"popups":[{"id":"exit-10","after_ms":3000}]})");
        ok &= d.set_variable("segment", "vip");
        ok &= d.add_exposure("hero-rule", "hero_copy", "short");
        benchmark::DoNotOptimize(ok);
        benchmark::DoNotOptimize(d.fills().data());
    }
    state.SetItemsProcessed(static_cast<int64_t>(state.iterations()));
}
BENCHMARK(BM_Decision_Build);

}  // namespace
