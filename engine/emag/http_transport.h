#pragma once

// HttpTransport: asynchronous HTTP/1.1 POSTs to one origin (http or https), over keep-alive
// connections that it pools, driven by an IoPool. Boost.Beast lives in http_transport.cc only.
// The eMAG client is its one user: it knows nothing of eMAG.

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "engine/emag/io_pool.h"

namespace marketsync::emag {

struct HttpEndpoint {
  bool tls = false;
  std::string host;
  std::string port;  // "80" / "443" when the URL names none
};

struct HttpTransportOptions {
  std::chrono::milliseconds connect_timeout{10000};  // resolve, connect and TLS handshake
  std::chrono::milliseconds io_timeout{30000};       // sending the request, reading the answer
  // PEM file of the CAs that certificates are checked against; empty: the system's store.
  std::string ca_file;
  // Kept-alive connections kept for reuse. An account sends 3 requests a second: a few carry
  // them; more only hold the server's workers (a thread each in many servers) while idle.
  size_t max_idle = 4;
  size_t max_body = size_t{256} << 20;    // a longer answer is an error
};

// One exchange's outcome: an answer (any status), or why there is none.
struct HttpReply {
  enum class Failure : uint8_t {
    kNone,       // an answer came
    kFailed,     // resolve, connect, send or receive failed or timed out (`error` says which)
    kUntrusted,  // the server's certificate failed verification
    kAborted,    // AbortAll
  };
  Failure failure = Failure::kNone;
  std::string error;  // what failed; never the request's headers
  int status = 0;
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // as the server spelled them

  // The first header named `name` (any case), or "".
  std::string Header(std::string_view name) const;
};

// Thread safety: every method is thread-safe. `done` runs once, on an IoPool thread.
class HttpTransport {
 public:
  // Errors: kInvalidArgument for an https endpoint whose ca_file cannot be read as PEM.
  static Result<std::shared_ptr<HttpTransport>> Create(IoPool& io, HttpEndpoint endpoint,
                                                       HttpTransportOptions options);
  virtual ~HttpTransport() = default;

  // Asked right before the request is written, on a connected socket: nullopt lets it go
  // (and counts it as sent now), else the earliest time it may (asked again then). A rate
  // limiter that counts what the server counts, arrivals, must admit here, not before a
  // connect or a queue of handlers on a busy machine.
  using Gate = std::function<std::optional<std::chrono::steady_clock::time_point>()>;

  // POSTs `body` (application/json) to `target` with this Authorization header, once `gate`
  // (may be empty) lets it. A kept-alive connection that the server closed while idle is
  // retried once on a new one, before any answer could have been produced.
  virtual void Post(std::string target, std::string body, std::string authorization, Gate gate,
                    std::function<void(HttpReply)> done) = 0;
  // Ends every exchange in flight at once (their replies say kAborted).
  virtual void AbortAll() = 0;
};

}  // namespace marketsync::emag
