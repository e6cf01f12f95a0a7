#include "engine/emag/io_pool.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

#include "base/thread_name.h"

namespace marketsync::emag {

struct IoPool::Guard {
  explicit Guard(boost::asio::io_context& c) : work(boost::asio::make_work_guard(c)) {}
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work;
};

IoPool::IoPool(unsigned threads, const std::string& name, int nice)
    : context_(std::make_unique<boost::asio::io_context>(static_cast<int>(std::max(threads, 1u)))),
      guard_(std::make_unique<Guard>(*context_)) {
  threads_.reserve(std::max(threads, 1u));
  for (unsigned i = 0; i < std::max(threads, 1u); ++i) {
    threads_.emplace_back([this, name, nice] {
      SetThreadName(name);
      if (nice != 0) ::setpriority(PRIO_PROCESS, static_cast<id_t>(::gettid()), nice);
      context_->run();
    });
  }
}

IoPool::~IoPool() {
  guard_.reset();
  context_->stop();
  for (auto& t : threads_) t.join();
}

unsigned DefaultIoThreads() { return std::clamp(std::thread::hardware_concurrency(), 2u, 8u); }

IoPool& DefaultIoPool() {
  static IoPool* pool = new IoPool(DefaultIoThreads(), "ms-io");  // never destroyed: used until exit
  return *pool;
}

}  // namespace marketsync::emag
