#pragma once

// EmagClient: product_offer/count and product_offer/read for one seller account, over real HTTP
// (HTTPS for eMAG, plain HTTP for the simulator), paced by the account's rate limiter and retried
// by the retry policy. Asynchronous: a call is a small state machine on the IoPool (its waits
// are timers, its request an HttpTransport exchange), so any number of accounts share a few
// threads. The blocking Count/ReadPage wait for the same calls. No Asio in this header.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "engine/emag/io_pool.h"
#include "engine/emag/offer.h"
#include "engine/emag/rate_limiter.h"
#include "base/status.h"

namespace marketsync::emag {

inline constexpr std::string_view kDefaultBaseUrl = "https://marketplace-api.emag.ro/api-3";

// A seller login. The password never leaves the client: not in errors, logs or events.
struct Account {
  std::string name;      // "main", "fbe": how marketsync names the account
  std::string username;
  std::string password;
  std::string base_url = std::string(kDefaultBaseUrl);  // up to and including /api-3
};

struct ClientOptions {
  std::chrono::milliseconds connect_timeout{10000};
  std::chrono::milliseconds read_timeout{30000};
  RateLimit rate_limit;
  RetryPolicy retry;
  Clock* clock = nullptr;               // defaults to SystemClock(); borrowed
  std::function<double()> random;       // uniform [0, 1) for jitter; defaults to a seeded PRNG
  // PEM file of the CAs that HTTPS certificates are checked against; empty: the system's.
  std::string ca_file;
  IoPool* io = nullptr;                 // drives the calls; defaults to DefaultIoPool(); borrowed
};

// Filters of product_offer/read and /count.
struct OfferFilter {
  std::optional<int> status;  // 1 active, 0 inactive
  std::optional<uint64_t> id;
  std::optional<std::string> part_number;
  std::optional<std::string> part_number_key;
};

// What one logical call cost, retries included.
struct CallStats {
  uint32_t requests = 0;
  uint32_t rate_limit_hits = 0;  // 429 answers
  uint32_t retries = 0;
  uint64_t latency_us = 0;       // from the first slot to the final answer
};

// Cancellation and deadline for one call. `cancel` may be null and must outlive the call; a
// call sees it at each of its steps, and at once when the call is aborted (Abort on its handle,
// AbortInFlight, or a blocking call whose flag turns true).
struct CallControl {
  const std::atomic<bool>* cancel = nullptr;
  std::optional<SteadyTime> deadline;
  // A slot the caller reserved from the account's limiter for the first attempt, so that this
  // call goes ahead of requests started after the reservation (retries reserve their own).
  std::optional<SteadyTime> first_slot;
  // Asked while the call waits for the limiter to admit it: false gives the call up unsent
  // (kCancelled, "no longer needed"), e.g. a page the count has shown to be past the end.
  std::function<bool()> wanted;
};

// Errors of a call, by class:
//   retryable, still failing after every attempt: kUnavailable
//   fatal: kPermissionDenied (401, 403, "Invalid vendor ip"), kFailedPrecondition (other
//     isError answers), kInvalidArgument (400, 404, 422)
//   kCancelled, kDeadlineExceeded: the control said stop
// Every message names the account, the resource and the page.
bool IsFatalEmagError(const Status& s);

// A call in flight: Abort ends it at once (kCancelled), whatever it is waiting for.
class CallHandle {
 public:
  virtual ~CallHandle() = default;
  virtual void Abort() = 0;
};

// Thread safety: every method is thread-safe; concurrent calls use separate connections and
// share the account's rate limiter. Callbacks run once, on an IoPool thread; the blocking calls
// must not be made on one.
class EmagClient {
 public:
  template <typename T>
  using Callback = std::function<void(Result<T>, CallStats)>;

  // Errors: kInvalidArgument for a base URL that is not http(s)://host[:port]/path or that
  // carries credentials.
  static Result<std::unique_ptr<EmagClient>> Create(Account account, ClientOptions options = {});
  virtual ~EmagClient() = default;

  virtual Result<OfferCount> Count(const OfferFilter& filter, CallStats* stats,
                                   const CallControl& control = {}) = 0;
  // One page (from 1) of up to items_per_page (1..100) offers; past the last page it is empty.
  virtual Result<OfferPage> ReadPage(const OfferFilter& filter, uint32_t page,
                                     uint32_t items_per_page, CallStats* stats,
                                     const CallControl& control = {}) = 0;
  // The same calls, asynchronous: `done` gets the result and what the call cost.
  virtual std::shared_ptr<CallHandle> AsyncCount(const OfferFilter& filter, CallControl control,
                                                 Callback<OfferCount> done) = 0;
  virtual std::shared_ptr<CallHandle> AsyncReadPage(const OfferFilter& filter, uint32_t page,
                                                    uint32_t items_per_page, CallControl control,
                                                    Callback<OfferPage> done) = 0;
  // Aborts every call in flight (they end kCancelled at once). Used to abandon a cancelled run.
  virtual void AbortInFlight() = 0;

  virtual const std::string& account_name() const = 0;
  virtual const std::string& base_url() const = 0;
  virtual RateLimiter& rate_limiter() = 0;

 protected:
  EmagClient() = default;
};

}  // namespace marketsync::emag
