// Threads for the CPU-heavy half of a poll (parsing and normalising documents),
// so that one event loop can keep several cores busy. A connector awaits
// `pool.run(fn)`: fn runs on a pool thread and the coroutine resumes on its own
// executor with the result. With no pool (tests, `postwire parse`) the work runs
// inline. Work handed to the pool must not touch the connector's or the driver's
// state: it gets its inputs by value and returns its output.
#pragma once

#include <cstddef>
#include <exception>
#include <memory>
#include <optional>
#include <type_traits>
#include <utility>

#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/execution/outstanding_work.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/prefer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace postwire {

class ComputePool {
 public:
  // `threads` = 0: one per CPU core.
  explicit ComputePool(std::size_t threads);
  ~ComputePool();
  ComputePool(const ComputePool&) = delete;
  ComputePool& operator=(const ComputePool&) = delete;

  std::size_t threads() const { return threads_; }

  template <class F>
  boost::asio::awaitable<std::invoke_result_t<F&>> run(F fn) {
    using R = std::invoke_result_t<F&>;
    // The handler's executor is the awaiting coroutine's; the work guard keeps its
    // event loop from running dry while the only pending thing is pool work. An
    // exception thrown by fn is rethrown in the coroutine, not on the pool thread.
    auto initiate = [this, fn = std::move(fn)](auto handler) mutable {
      auto ex = boost::asio::get_associated_executor(handler);
      auto guard = boost::asio::prefer(ex, boost::asio::execution::outstanding_work.tracked);
      boost::asio::post(pool_, [fn = std::move(fn), handler = std::move(handler),
                                guard = std::move(guard)]() mutable {
        name_this_thread();
        std::exception_ptr error;
        std::optional<R> result;
        try {
          result.emplace(fn());
        } catch (...) {
          error = std::current_exception();
        }
        boost::asio::post(guard, [handler = std::move(handler), error, result = std::move(result)]() mutable {
          std::move(handler)(error, std::move(result));
        });
      });
    };
    std::optional<R> result =
        co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                             void(std::exception_ptr, std::optional<R>)>(
            std::move(initiate), boost::asio::use_awaitable);
    co_return std::move(*result);
  }

 private:
  // "pw-compute" (for top -H and perf), once per thread: asio's pool has no thread hook.
  static void name_this_thread();
  std::size_t threads_;
  boost::asio::thread_pool pool_;
};

// fn() on the pool when there is one, else right here.
template <class F>
boost::asio::awaitable<std::invoke_result_t<F&>> run_compute(ComputePool* pool, F fn) {
  if (pool == nullptr) co_return fn();
  co_return co_await pool->run(std::move(fn));
}

}  // namespace postwire
