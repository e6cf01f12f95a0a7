#pragma once

// PageStream: latency hiding for a run's reads. eMAG pages take seconds each while the rate
// limit allows 3 requests a second, so one account keeps several page requests in flight and
// hands the pages to its caller in page order. It can also ask product_offer/count, ahead of
// every page (its rate-limit slot is reserved before the first page's), and hands the count
// out as soon as it answers, between pages.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <variant>

#include "engine/emag/client.h"

namespace marketsync::emag {

struct FetchedPage {
  uint32_t page = 0;
  Result<OfferPage> result = Status::Unavailable("not fetched");
  CallStats stats;
};

struct FetchedCount {
  Result<OfferCount> result = Status::Unavailable("not fetched");
  CallStats stats;
};

struct PageStreamOptions {
  static constexpr uint32_t kOpenEnded = UINT32_MAX - 1;
  uint32_t first = 1;
  uint32_t last = kOpenEnded;  // inclusive; kOpenEnded: until the count, a short page or SetLastPage
  uint32_t items_per_page = 100;
  uint32_t window = 4;  // requests in flight, pages fetched ahead of the consumer, pages before the count
  bool count = false;          // ask product_offer/count first; its answer ends the stream
  // While the count has not answered, no page past this one is started: it bounds the pages
  // requested past the end of a catalogue that is smaller than the window (say, the pages
  // the account's mirror fills, plus one). The count lifts it.
  uint32_t last_before_count = kOpenEnded;
};

// Thread safety: one consumer takes items (Next or AsyncNext, one at a time); Stop and
// SetLastPage from any thread. No thread of its own: its requests are the client's
// asynchronous calls, and their answers move the stream on.
class PageStream {
 public:
  using Item = std::variant<FetchedCount, FetchedPage>;
  using Handler = std::function<void(std::optional<Item>)>;
  static constexpr uint32_t kOpenEnded = PageStreamOptions::kOpenEnded;

  // `client` and `control.cancel` must outlive the stream.
  PageStream(EmagClient& client, OfferFilter filter, PageStreamOptions options, CallControl control);
  // Pages first..last, no count.
  PageStream(EmagClient& client, OfferFilter filter, uint32_t first, uint32_t last, uint32_t items_per_page,
             uint32_t window, CallControl control);
  // Stops: abandons requests in flight (their late answers are dropped).
  ~PageStream();
  PageStream(const PageStream&) = delete;
  PageStream& operator=(const PageStream&) = delete;

  // The count as soon as it answers (once, successful or not), otherwise the next page in
  // order. nullopt after the last page (and the count, when asked) or once stopped. A
  // successful count ends the stream at its last page.
  // AsyncNext: `handler` runs once with it, at once when it is in, else on the client's pool
  // when it comes in. Next: blocks until it is in (never on the client's pool).
  void AsyncNext(Handler handler);
  std::optional<Item> Next();
  // Next() for a stream without a count: only pages.
  std::optional<FetchedPage> NextPage();
  // Starts no more requests, abandons those in flight, and ends the stream.
  void Stop();
  // Ends the stream after `last` (lowering it only), e.g. once a short page showed where the
  // catalogue ends.
  void SetLastPage(uint32_t last);

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace marketsync::emag
