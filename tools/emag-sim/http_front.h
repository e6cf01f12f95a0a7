#pragma once

// The simulator's HTTP/1.1 front: Boost.Beast on a few threads running one io_context (epoll),
// plain or TLS. It reads requests, hands each to the simulator's handler, waits out the
// answer's delay on a timer (never on a thread) and writes the answer, keeping the connection
// for the next request. Thousands of idle keep-alive connections cost nothing while they wait,
// as at eMAG's own front; a thread per connection (cpp-httplib's model) polled each of them
// every few milliseconds and took both cores at 1,000 accounts. No Asio in this header.

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"

namespace marketsync::sim {

struct FrontRequest {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query
  std::string content_type;
  std::string authorization;
  std::string body;
  std::string remote_addr;  // the client's address, as text
  // When its header had been read: what a rate limit counts. Stamped on the threads that only
  // read and write, before the handler's queue, so a busy handler does not bunch arrivals.
  std::chrono::steady_clock::time_point arrived;
};

struct FrontReply {
  int status = 200;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // Written after this long (cut short by Stop, which answers nothing).
  std::chrono::milliseconds delay{0};
  // Announce the whole body, send half of it, then drop the connection.
  bool reset_halfway = false;
  // Called once the delay is over, just before the answer is written (or when Stop drops it
  // unwritten, not at all).
  std::function<void()> on_delay_over;
};

// Runs on the front's workers, several at once; must not block for long.
using FrontHandler = std::function<FrontReply(const FrontRequest&)>;

struct FrontOptions {
  size_t threads = 2;  // read requests and write answers
  size_t workers = 2;  // run the handler
  // HTTPS with this certificate chain and key (PEM files); empty: plain HTTP.
  std::string tls_cert;
  std::string tls_key;
  std::chrono::seconds idle_timeout{5};   // a kept connection with no next request is closed
  std::chrono::seconds read_timeout{30};  // a request that started must be read within this
  size_t max_body = size_t{1} << 20;      // larger bodies are answered 413
};

class HttpFront {
 public:
  // Binds host:port (0 picks a free port) and starts serving.
  // Errors: kInvalidArgument (TLS files unusable), kUnavailable (cannot bind).
  static Result<std::unique_ptr<HttpFront>> Start(FrontOptions options, const std::string& host, int port,
                                                  FrontHandler handler);
  virtual ~HttpFront() = default;
  virtual int port() const = 0;
  // Stops accepting and drops every connection, answers waiting on their delay included.
  // Idempotent; the handler is not called after it returns.
  virtual void Stop() = 0;

 protected:
  HttpFront() = default;
};

}  // namespace marketsync::sim
