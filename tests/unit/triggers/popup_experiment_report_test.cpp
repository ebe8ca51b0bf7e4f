// ExperimentTally for pop-up experiments: a pop-up's click converts only for the
// experiment the pop-up belongs to; an order converts for every experiment.
#include "tailor/triggers/experiment_report.h"

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <utility>

namespace tailor {
namespace {

using Rows = std::map<std::pair<std::string, std::string>, VariantReport>;

Rows rows(const ExperimentTally& t) {
    Rows out;
    for (const VariantReport& r : t.report()) {
        out[{r.experiment, r.variant}] = r;
    }
    return out;
}

const VariantReport& row(Rows& r, const char* experiment, const char* variant) {
    return r[{experiment, variant}];
}

TEST(PopupExperimentTally, APopupClickConvertsOnlyForItsOwnExperiment) {
    ExperimentTally t;
    // exit-offer: the offer arm sees exit-discount; the control's exposure names the
    // pop-up it went without. hero-copy: a content experiment the same visitors are in.
    t.exposure("o1", "exit-offer", "offer", 100, "exit-discount");
    t.exposure("o2", "exit-offer", "offer", 100, "exit-discount");
    t.exposure("c1", "exit-offer", "control", 100, "exit-discount");
    t.exposure("c2", "exit-offer", "control", 100, "exit-discount");
    for (const char* vid : {"o1", "o2", "c1", "c2"}) {
        t.exposure(vid, "hero-copy", "a", 100, "hero-a");
    }
    t.exposure("o1", "popup", "offered", 100, "exit-discount");
    t.exposure("c2", "popup", "offered", 100, "newsletter");

    t.conversion("o1", 200, "exit-discount");  // clicked the experiment's pop-up
    t.conversion("c2", 200, "newsletter");     // clicked a pop-up of no experiment
    auto r = rows(t);
    EXPECT_EQ(row(r, "exit-offer", "offer").converted, 1);
    EXPECT_EQ(row(r, "exit-offer", "control").converted, 0);
    EXPECT_EQ(row(r, "hero-copy", "a").converted, 0) << "a pop-up click is no content conversion";
    EXPECT_EQ(row(r, "popup", "offered").converted, 2) << "every offer's own clicks";

    t.conversion("c1", 300);  // an order: converts in every experiment
    r = rows(t);
    EXPECT_EQ(row(r, "exit-offer", "control").converted, 1);
    EXPECT_EQ(row(r, "hero-copy", "a").converted, 1);
    EXPECT_EQ(row(r, "exit-offer", "control").exposed, 2);
    EXPECT_EQ(row(r, "exit-offer", "offer").exposed, 2);
}

TEST(PopupExperimentTally, AClickBeforeTheFirstExposureDoesNotCount) {
    ExperimentTally t;
    t.conversion("o1", 50, "exit-discount");
    t.exposure("o1", "exit-offer", "offer", 100, "exit-discount");
    t.exposure("o1", "exit-offer", "offer", 400, "exit-discount");  // once per visitor
    auto r = rows(t);
    EXPECT_EQ(row(r, "exit-offer", "offer").exposed, 1);
    EXPECT_EQ(row(r, "exit-offer", "offer").converted, 0);
}

}  // namespace
}  // namespace tailor
