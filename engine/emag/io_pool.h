#pragma once

// IoPool: one Boost.Asio io_context run by a small fixed set of threads. Every account's
// requests, rate-limit waits, backoffs and runs are driven by it: no thread belongs to an
// account, a run or a request in flight. No Asio in this header.

#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace boost::asio {
class io_context;
}  // namespace boost::asio

namespace marketsync::emag {

// Thread safety: context() is Asio's (thread-safe for posting work); the pool is built and
// destroyed by one owner.
class IoPool {
 public:
  // Starts `threads` (at least 1) threads named `name`, at `nice` (Linux: per thread; a pool
  // of CPU work yields to the pool that answers the network).
  IoPool(unsigned threads, const std::string& name, int nice = 0);
  // Stops the context (work still queued is dropped) and joins the threads. Whatever the
  // handlers refer to must outlive this.
  ~IoPool();
  IoPool(const IoPool&) = delete;
  IoPool& operator=(const IoPool&) = delete;

  boost::asio::io_context& context() { return *context_; }

 private:
  struct Guard;
  std::unique_ptr<boost::asio::io_context> context_;
  std::unique_ptr<Guard> guard_;  // keeps run() going while idle
  std::vector<std::thread> threads_;
};

// About the core count: at least 2, at most 8.
unsigned DefaultIoThreads();

// The pool of clients made without one (tests, tools): DefaultIoThreads() threads named
// "ms-io", made on first use and kept for the life of the process.
IoPool& DefaultIoPool();

}  // namespace marketsync::emag
