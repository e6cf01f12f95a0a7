#pragma once

// PageStream: latency hiding for product_offer/read. eMAG pages take seconds each while the rate
// limit allows 3 requests a second, so one account keeps several page requests in flight and
// hands the pages to its caller in page order.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "engine/emag/client.h"

namespace marketsync::emag {

struct FetchedPage {
  uint32_t page = 0;
  Result<OfferPage> result = Status::Unavailable("not fetched");
  CallStats stats;
};

// Thread safety: Next() and Stop() from one consumer thread; the workers are internal.
class PageStream {
 public:
  // Fetches pages first..last (inclusive) of `filter`, at most `window` requests in flight and
  // at most `window` pages ahead of the consumer. `last` may be kOpenEnded when the page count is
  // not known yet (product_offer/count is still in flight): the stream then runs until
  // SetLastPage. `client` and `control.cancel` must outlive it.
  PageStream(EmagClient& client, OfferFilter filter, uint32_t first, uint32_t last,
             uint32_t items_per_page, uint32_t window, CallControl control);
  // Stops: abandons requests in flight and joins the workers.
  ~PageStream();
  PageStream(const PageStream&) = delete;
  PageStream& operator=(const PageStream&) = delete;

  // The next page in order, blocking until it is fetched (successfully or not); nullopt after
  // the last page or once stopped.
  std::optional<FetchedPage> Next();
  // Starts no more pages and abandons those in flight.
  void Stop();
  // Ends the stream after `last` (lowering it only), e.g. once product_offer/count answered or
  // a short page showed where the catalogue ends. Thread-safe.
  void SetLastPage(uint32_t last);

  static constexpr uint32_t kOpenEnded = UINT32_MAX - 1;

 private:
  void Work();
  bool Stopped() const;

  EmagClient& client_;
  const OfferFilter filter_;
  uint32_t last_;  // guarded by mu_
  const uint32_t items_per_page_;
  const uint32_t window_;
  const CallControl outer_;
  std::atomic<bool> stop_{false};

  std::mutex mu_;  // guards last_, next_start_, next_hand_, ready_, in_flight_
  std::condition_variable cv_;
  uint32_t next_start_;
  uint32_t next_hand_;
  uint32_t in_flight_ = 0;
  std::map<uint32_t, FetchedPage> ready_;
  std::vector<std::thread> workers_;
};

}  // namespace marketsync::emag
