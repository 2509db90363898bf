#include "postwire/connectors/compute_pool.hpp"

#include <pthread.h>

#include <thread>

namespace postwire {

namespace {
std::size_t resolve(std::size_t threads) {
  if (threads > 0) return threads;
  const unsigned cores = std::thread::hardware_concurrency();
  return cores == 0 ? 1 : cores;
}
}  // namespace

ComputePool::ComputePool(std::size_t threads) : threads_(resolve(threads)), pool_(threads_) {}

void ComputePool::name_this_thread() {
  thread_local bool named = false;
  if (named) return;
  named = true;
  pthread_setname_np(pthread_self(), "pw-compute");
}

ComputePool::~ComputePool() {
  pool_.stop();
  pool_.join();
}

}  // namespace postwire
