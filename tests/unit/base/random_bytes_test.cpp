// random_bytes: CSPRNG bytes from a per-thread pool; never the same bytes twice, not even
// across a fork.
#include "tailor/base/random_bytes.h"

#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <set>
#include <string>

namespace tailor {
namespace {

std::string draw(size_t n) {
    std::string out(n, '\0');
    EXPECT_TRUE(random_bytes(reinterpret_cast<unsigned char*>(out.data()), n));
    return out;
}

TEST(RandomBytes, DrawsAcrossSeveralPoolsNeverRepeat) {
    std::set<std::string> seen;
    const size_t draws = 3 * kRandomPoolBytes / 16 + 7;  // refills mid-way, twice
    for (size_t i = 0; i < draws; i++) {
        EXPECT_TRUE(seen.insert(draw(16)).second) << "draw " << i << " repeated an earlier one";
    }
}

TEST(RandomBytes, AnOddSizeThatDoesNotDivideThePoolStillFills) {
    std::set<std::string> seen;
    for (size_t i = 0; i < kRandomPoolBytes / 10 + 3; i++) {
        const std::string b = draw(10);
        EXPECT_NE(b, std::string(10, '\0'));
        EXPECT_TRUE(seen.insert(b).second);
    }
}

TEST(RandomBytes, MoreThanAPoolGoesStraightToOpenSSL) {
    const std::string a = draw(kRandomPoolBytes + 1);
    const std::string b = draw(kRandomPoolBytes + 1);
    EXPECT_NE(a, b);
    EXPECT_NE(a, std::string(kRandomPoolBytes + 1, '\0'));
}

TEST(RandomBytes, AForkedChildNeverHandsOutTheParentsNextBytes) {
    (void)draw(16);  // the pool is filled and partly used before the fork
    int fds[2];
    ASSERT_EQ(pipe(fds), 0);
    const pid_t child = fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
        std::array<unsigned char, 32> b{};
        const bool ok = random_bytes(b.data(), b.size());
        const ssize_t w = ok ? write(fds[1], b.data(), b.size()) : -1;
        _exit(w == static_cast<ssize_t>(b.size()) ? 0 : 1);
    }
    close(fds[1]);
    std::string from_child(32, '\0');
    ASSERT_EQ(read(fds[0], from_child.data(), from_child.size()), 32);
    close(fds[0]);
    int status = 0;
    ASSERT_EQ(waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    EXPECT_NE(draw(32), from_child) << "the child drew what the parent's pool held";
}

}  // namespace
}  // namespace tailor
