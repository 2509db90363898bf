#include "postwire/daemon/polling_driver.hpp"

#include <gtest/gtest.h>

namespace postwire {
namespace {

using namespace std::chrono_literals;

TEST(PollDelay, HealthySourcesPollAtTheirInterval) {
  EXPECT_EQ(next_poll_delay(5min, 0), 5min);
  EXPECT_EQ(next_poll_delay(1s, 0), 1s);
}

TEST(PollDelay, FailuresBackOffExponentiallyAndCap) {
  EXPECT_EQ(next_poll_delay(5min, 1), 1s);
  EXPECT_EQ(next_poll_delay(5min, 2), 2s);
  EXPECT_EQ(next_poll_delay(5min, 5), 16s);
  EXPECT_EQ(next_poll_delay(5min, 40), 30min);  // capped at max(interval, 30 min)
  EXPECT_EQ(next_poll_delay(2h, 40), 2h);
}

}  // namespace
}  // namespace postwire
