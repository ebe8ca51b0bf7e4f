// TempDir: a fresh directory under the system's temporary directory for one test, removed
// with everything in it when the test ends.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace tailor {

class TempDir {
  public:
    // `prefix` names the directory (prefix-XXXXXX), so a test left behind says whose it was.
    explicit TempDir(std::string_view prefix) {
        std::string templ =
            (std::filesystem::temp_directory_path() / (std::string(prefix) + "-XXXXXX")).string();
        if (::mkdtemp(templ.data()) == nullptr) {
            ADD_FAILURE() << "mkdtemp " << templ << " failed";
            return;
        }
        path_ = templ;
    }
    ~TempDir() {
        std::error_code ignored;
        if (!path_.empty()) {
            std::filesystem::remove_all(path_, ignored);
        }
    }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;

    [[nodiscard]] const std::string& path() const { return path_; }

  private:
    std::string path_;
};

}  // namespace tailor
