// DeviceClass: real User-Agent strings of each class, bots that claim to be phones, bounds.
#include "tailor/request/device_class.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace tailor {
namespace {

TEST(DeviceClass, IPhoneIsMobile) {
    EXPECT_EQ(classify_device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) "
                              "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 "
                              "Mobile/15E148 Safari/604.1"),
              DeviceClass::kMobile);
}

TEST(DeviceClass, AndroidPhoneIsMobileAndroidTabletIsTablet) {
    EXPECT_EQ(classify_device("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 "
                              "(KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36"),
              DeviceClass::kMobile);
    EXPECT_EQ(classify_device("Mozilla/5.0 (Linux; Android 14; SM-X710) AppleWebKit/537.36 "
                              "(KHTML, like Gecko) Chrome/124.0 Safari/537.36"),
              DeviceClass::kTablet);
}

TEST(DeviceClass, IPadIsTablet) {
    EXPECT_EQ(classify_device("Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 "
                              "(KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1"),
              DeviceClass::kTablet);
}

TEST(DeviceClass, DesktopBrowsersAreDesktop) {
    EXPECT_EQ(classify_device("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 "
                              "(KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36"),
              DeviceClass::kDesktop);
    EXPECT_EQ(classify_device("Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:125.0) "
                              "Gecko/20100101 Firefox/125.0"),
              DeviceClass::kDesktop);
}

TEST(DeviceClass, CrawlersAreBotsEvenWhenTheyClaimMobile) {
    EXPECT_EQ(classify_device("Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) "
                              "AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile "
                              "Safari/537.36 (compatible; Googlebot/2.1; "
                              "+http://www.google.com/bot.html)"),
              DeviceClass::kBot);
    EXPECT_EQ(classify_device("facebookexternalhit/1.1"), DeviceClass::kBot);
    EXPECT_EQ(classify_device("curl/8.5.0"), DeviceClass::kBot);
    EXPECT_EQ(classify_device("Mozilla/5.0 HeadlessChrome/124.0"), DeviceClass::kBot);
}

TEST(DeviceClass, EmptyIsUnknown) {
    EXPECT_EQ(classify_device(""), DeviceClass::kUnknown);
}

TEST(DeviceClass, LooksOnlyAtTheFirstBytes) {
    std::string ua(kMaxUserAgentScan, 'x');
    ua += " iPhone";
    EXPECT_EQ(classify_device(ua), DeviceClass::kDesktop);
}

// classify_device remembers recent values; one that differs from a
// remembered one only where its slot is not chosen (same length, same bytes
// at the sampled places) must still be classified on its own.
TEST(DeviceClass, RememberedValuesNeverAnswerForAnother) {
    const std::string phone =
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148";
    std::string crawler = phone;
    crawler.replace(13, 6, "Botty;");  // same length and same sampled bytes
    ASSERT_EQ(crawler.size(), phone.size());
    std::string desktop = phone;
    desktop.replace(13, 18, "Macboo; CPU MacOSX");
    desktop.replace(desktop.find("Mobile"), 6, "Safari");
    std::vector<std::pair<std::string, DeviceClass>> cases = {
        {phone, DeviceClass::kMobile},
        {crawler, DeviceClass::kBot},
        {desktop, DeviceClass::kDesktop},
    };
    for (int i = 0; i < 40; i++) {
        cases.emplace_back("Mozilla/5.0 (X11; Linux x86_64) Firefox/" + std::to_string(100 + i),
                           DeviceClass::kDesktop);
        cases.emplace_back("Googlebot/2." + std::to_string(i), DeviceClass::kBot);
    }
    for (int round = 0; round < 3; round++) {
        for (size_t i = 0; i < cases.size(); i++) {
            const auto& [ua, want] = cases[(i * 7 + static_cast<size_t>(round)) % cases.size()];
            EXPECT_EQ(classify_device(ua), want) << ua;
        }
    }
}

TEST(DeviceClass, NamesRoundTrip) {
    for (DeviceClass d :
         {DeviceClass::kDesktop, DeviceClass::kMobile, DeviceClass::kTablet, DeviceClass::kBot}) {
        EXPECT_EQ(parse_device_class(device_class_name(d)), d);
    }
    EXPECT_EQ(device_class_name(DeviceClass::kUnknown), "unknown");
    EXPECT_EQ(parse_device_class("phone"), DeviceClass::kUnknown);
}

}  // namespace
}  // namespace tailor
