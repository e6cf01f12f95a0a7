#include "engine/emag/page_stream.h"

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>

namespace marketsync::emag {

// What the calls' callbacks share with the stream: they hold it, so an answer that comes after
// the stream is gone finds it stopped and is dropped.
struct PageStream::State : std::enable_shared_from_this<State> {
  State(EmagClient& c, OfferFilter f, const PageStreamOptions& o, CallControl control)
      : client(c), account(c.account_name()), filter(std::move(f)), items_per_page(std::max<uint32_t>(o.items_per_page, 1)),
        window(std::max<uint32_t>(o.window, 1)), outer(std::move(control)), last(o.last),
        last_before_count(o.count ? o.last_before_count : kOpenEnded), count_pending(o.count),
        first(o.first), next_start(o.first), next_hand(o.first) {}

  bool Stopped() const { return stop.load() || (outer.cancel != nullptr && outer.cancel->load()); }
  uint32_t EndLocked() const { return std::min(last, last_before_count); }

  // The count's slot is taken before any page's, so no page request goes first.
  void Begin(bool with_count) {
    std::unique_lock lk(mu);
    if (with_count) {
      CallControl c{&stop, outer.deadline, client.rate_limiter().Reserve(), nullptr};
      client.AsyncCount(filter, c, [self = shared_from_this()](Result<OfferCount> r, CallStats s) {
        self->Counted(std::move(r), s);
      });
    }
    StartPagesLocked();
  }

  // Starts page requests while the window and the end allow. A page past the end waits while
  // the count may still move the end; until the count answers, no page past the first window
  // starts either (a busy machine can hand pages out before the count's answer is read: the
  // pages asked past the end of a small catalogue stay within one window).
  void StartPagesLocked() {
    while (!Stopped() && next_start <= EndLocked() && next_start < next_hand + window &&
           (!count_pending || next_start < first + window)) {
      const uint32_t page = next_start++;
      ++in_flight;
      // Reserved under mu: lower pages get earlier slots. The end may move while the page waits
      // for its slot (the count answered, a short page came in): a page past it is never sent.
      CallControl c{&stop, outer.deadline, client.rate_limiter().Reserve(),
                    [weak = weak_from_this(), page] {
                      auto self = weak.lock();
                      if (!self) return false;
                      std::lock_guard lk(self->mu);
                      return page <= self->EndLocked();
                    }};
      client.AsyncReadPage(filter, page, items_per_page, c,
                           [self = shared_from_this(), page](Result<OfferPage> r, CallStats s) {
                             self->Fetched(page, std::move(r), s);
                           });
    }
  }

  void Counted(Result<OfferCount> result, CallStats stats) {
    FetchedCount fetched{std::move(result), stats};
    if (Stopped() && !fetched.result.ok()) {
      fetched.result = Status::Cancelled("account " + account + ", product_offer/count: cancelled");
    }
    std::unique_lock lk(mu);
    if (fetched.result.ok()) {
      const uint64_t pages = (fetched.result->items + items_per_page - 1) / items_per_page;
      last = static_cast<uint32_t>(std::min<uint64_t>({last, pages, kOpenEnded}));
      last_before_count = kOpenEnded;
    }
    count_pending = false;
    count = std::move(fetched);
    StartPagesLocked();
    DeliverLocked(lk);
  }

  void Fetched(uint32_t page, Result<OfferPage> result, CallStats stats) {
    FetchedPage fetched{page, std::move(result), stats};
    if (Stopped() && !fetched.result.ok()) {
      fetched.result = Status::Cancelled("account " + account + ", product_offer/read page " +
                                         std::to_string(page) + ": cancelled");
    }
    std::unique_lock lk(mu);
    --in_flight;
    // Given up unsent because the end moved before it: as if it had never been started.
    const bool unneeded = fetched.stats.requests == 0 && page > EndLocked();
    if (!unneeded) ready.emplace(page, std::move(fetched));
    StartPagesLocked();
    DeliverLocked(lk);
  }

  // What the consumer may take now: an item, the end (nullopt), or nothing yet (false).
  bool TakeLocked(std::optional<Item>* out) {
    if (count) {
      *out = std::move(*count);
      count.reset();
      return true;
    }
    if (Stopped()) {
      *out = std::nullopt;
      return true;
    }
    if (next_hand <= EndLocked()) {
      auto it = ready.find(next_hand);
      if (it == ready.end()) return false;
      *out = std::move(it->second);
      ready.erase(it);
      ++next_hand;
      StartPagesLocked();
      return true;
    }
    if (count_pending) return false;
    *out = std::nullopt;
    return true;
  }

  // Hands the waiting consumer what it may take, if anything; unlocks.
  void DeliverLocked(std::unique_lock<std::mutex>& lk) {
    cv.notify_all();
    if (!waiter) return;
    std::optional<Item> item;
    if (!TakeLocked(&item)) return;
    Handler h = std::move(waiter);
    waiter = nullptr;
    lk.unlock();
    h(std::move(item));
  }

  void Stop() {
    bool abandon = false;
    {
      std::unique_lock lk(mu);
      if (!stop.exchange(true)) abandon = in_flight > 0 || count_pending;
      DeliverLocked(lk);
    }
    if (abandon) client.AbortInFlight();
  }

  EmagClient& client;  // touched only while not stopped: late answers may outlive it
  const std::string account;
  const OfferFilter filter;
  const uint32_t items_per_page;
  const uint32_t window;
  const CallControl outer;
  std::atomic<bool> stop{false};

  std::mutex mu;  // guards everything below
  std::condition_variable cv;
  uint32_t last;
  uint32_t last_before_count;  // lifted (kOpenEnded) once the count answered
  bool count_pending;          // asked, not answered
  const uint32_t first;
  std::optional<FetchedCount> count;  // answered, not handed out yet
  uint32_t next_start;
  uint32_t next_hand;
  uint32_t in_flight = 0;
  std::map<uint32_t, FetchedPage> ready;
  Handler waiter;  // AsyncNext's, waiting for an item
};

PageStream::PageStream(EmagClient& client, OfferFilter filter, PageStreamOptions options, CallControl control)
    : state_(std::make_shared<State>(client, std::move(filter), options, std::move(control))) {
  state_->Begin(options.count);
}

namespace {
PageStreamOptions PagesOnly(uint32_t first, uint32_t last, uint32_t items_per_page, uint32_t window) {
  PageStreamOptions o;
  o.first = first;
  o.last = last;
  o.items_per_page = items_per_page;
  o.window = window;
  return o;
}
}  // namespace

PageStream::PageStream(EmagClient& client, OfferFilter filter, uint32_t first, uint32_t last, uint32_t items_per_page,
                       uint32_t window, CallControl control)
    : PageStream(client, std::move(filter), PagesOnly(first, last, items_per_page, window), control) {}

PageStream::~PageStream() { Stop(); }

void PageStream::Stop() { state_->Stop(); }

void PageStream::SetLastPage(uint32_t last) {
  std::unique_lock lk(state_->mu);
  state_->last = std::min(state_->last, last);
  state_->DeliverLocked(lk);
}

void PageStream::AsyncNext(Handler handler) {
  std::unique_lock lk(state_->mu);
  state_->waiter = std::move(handler);
  state_->DeliverLocked(lk);
}

std::optional<PageStream::Item> PageStream::Next() {
  std::unique_lock lk(state_->mu);
  while (true) {
    std::optional<Item> item;
    if (state_->TakeLocked(&item)) {
      const bool stopped = !item && state_->Stopped() && !state_->stop.load();
      lk.unlock();
      if (stopped) Stop();  // an outer cancel also abandons what is in flight
      return item;
    }
    state_->cv.wait_for(lk, std::chrono::milliseconds(20));
  }
}

std::optional<FetchedPage> PageStream::NextPage() {
  while (std::optional<Item> item = Next()) {
    if (auto* page = std::get_if<FetchedPage>(&*item)) return std::move(*page);
  }
  return std::nullopt;
}

}  // namespace marketsync::emag
