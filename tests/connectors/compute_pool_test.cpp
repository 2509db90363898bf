#include "postwire/connectors/compute_pool.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>

namespace postwire {
namespace {

namespace asio = boost::asio;

TEST(ComputePool, RunsOnAPoolThreadAndResumesOnTheLoop) {
  asio::io_context io;
  ComputePool pool(2);
  EXPECT_EQ(pool.threads(), 2U);
  const auto loop_thread = std::this_thread::get_id();
  std::thread::id worker;
  std::thread::id resumed;
  std::string result;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto job = [&worker]() {
          worker = std::this_thread::get_id();
          return std::string("parsed");
        };
        result = co_await run_compute(&pool, std::move(job));
        resumed = std::this_thread::get_id();
      },
      asio::detached);
  // Nothing but pool work is pending: the loop must not run dry before it is back.
  io.run();
  EXPECT_EQ(result, "parsed");
  EXPECT_NE(worker, loop_thread);
  EXPECT_EQ(resumed, loop_thread);
}

TEST(ComputePool, AnExceptionReachesTheAwaitingCoroutine) {
  asio::io_context io;
  ComputePool pool(1);
  std::string caught;
  int after = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto job = []() -> int { throw std::runtime_error("out of memory while parsing"); };
        try {
          co_await run_compute(&pool, std::move(job));
        } catch (const std::runtime_error& e) {
          caught = e.what();
        }
        // The pool still works afterwards.
        auto next = []() { return 7; };
        after = co_await run_compute(&pool, std::move(next));
      },
      asio::detached);
  io.run();
  EXPECT_EQ(caught, "out of memory while parsing");
  EXPECT_EQ(after, 7);
}

TEST(ComputePool, WithoutAPoolTheWorkRunsInline) {
  asio::io_context io;
  std::thread::id worker;
  int result = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        auto job = [&worker]() {
          worker = std::this_thread::get_id();
          return 42;
        };
        result = co_await run_compute(nullptr, std::move(job));
      },
      asio::detached);
  io.run();
  EXPECT_EQ(result, 42);
  EXPECT_EQ(worker, std::this_thread::get_id());
}

TEST(ComputePool, ManyCoroutinesShareThePool) {
  asio::io_context io;
  ComputePool pool(0);  // one per core
  EXPECT_GE(pool.threads(), 1U);
  std::atomic<int> ran{0};
  std::vector<int> results(64, 0);
  for (int i = 0; i < 64; ++i) {
    asio::co_spawn(
        io,
        [&, i]() -> asio::awaitable<void> {
          auto job = [&ran, i]() {
            ++ran;
            return i * i;
          };
          results[static_cast<std::size_t>(i)] = co_await run_compute(&pool, std::move(job));
        },
        asio::detached);
  }
  io.run();
  EXPECT_EQ(ran.load(), 64);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(results[static_cast<std::size_t>(i)], i * i);
}

}  // namespace
}  // namespace postwire
