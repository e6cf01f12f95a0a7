#include "engine/emag/page_stream.h"

#include "base/thread_name.h"

namespace marketsync::emag {

PageStream::PageStream(EmagClient& client, OfferFilter filter, PageStreamOptions options, CallControl control)
    : client_(client), filter_(std::move(filter)), items_per_page_(std::max<uint32_t>(options.items_per_page, 1)),
      window_(std::max<uint32_t>(options.window, 1)), outer_(control), last_(options.last),
      last_before_count_(options.count ? options.last_before_count : kOpenEnded), count_pending_(options.count),
      next_start_(options.first), next_hand_(options.first) {
  const uint32_t pages = options.last >= options.first ? options.last - options.first + 1 : 0;  // huge when open-ended
  const uint32_t threads = std::min(window_, pages);
  workers_.reserve(threads + 1);
  // The count's slot is taken before any page worker exists, so no page request goes first.
  if (options.count) workers_.emplace_back([this, slot = client_.rate_limiter().Reserve()] { CountWork(slot); });
  for (uint32_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
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

PageStream::~PageStream() {
  Stop();
  for (auto& w : workers_) w.join();
}

bool PageStream::Stopped() const {
  return stop_.load() || (outer_.cancel != nullptr && outer_.cancel->load());
}

uint32_t PageStream::EndLocked() const { return std::min(last_, last_before_count_); }

void PageStream::Stop() {
  bool abandon = false;
  {
    std::lock_guard lk(mu_);
    if (stop_.exchange(true)) return;
    abandon = in_flight_ > 0 || count_pending_;
  }
  cv_.notify_all();
  if (abandon) client_.AbortInFlight();
}

void PageStream::CountWork(SteadyTime slot) {
  SetThreadName("ms-count");
  FetchedCount fetched;
  CallControl control{&stop_, outer_.deadline, slot, nullptr};
  fetched.result = client_.Count(filter_, &fetched.stats, control);
  if (Stopped() && !fetched.result.ok()) {
    fetched.result = Status::Cancelled("account " + client_.account_name() + ", product_offer/count: cancelled");
  }
  {
    std::lock_guard lk(mu_);
    if (fetched.result.ok()) {
      const uint64_t pages = (fetched.result->items + items_per_page_ - 1) / items_per_page_;
      last_ = static_cast<uint32_t>(std::min<uint64_t>({last_, pages, kOpenEnded}));
      last_before_count_ = kOpenEnded;
    }
    count_pending_ = false;
    count_ = std::move(fetched);
  }
  cv_.notify_all();
}

void PageStream::Work() {
  SetThreadName("ms-fetch");
  while (true) {
    uint32_t page = 0;
    SteadyTime slot;
    {
      std::unique_lock lk(mu_);
      // A page past the end waits while the count may still move the end.
      cv_.wait(lk, [&] {
        return Stopped() || (next_start_ <= EndLocked() && next_start_ < next_hand_ + window_) ||
               (next_start_ > EndLocked() && !count_pending_);
      });
      if (Stopped() || next_start_ > EndLocked()) return;
      page = next_start_++;
      slot = client_.rate_limiter().Reserve();  // under mu_: lower pages get earlier slots
      ++in_flight_;
    }
    // The end may have moved while this page waited for its slot (the count answered, a short
    // page came in): a page past it is never sent.
    // (A slot past the run's deadline is not waited for: ReadPage says so at once.)
    const bool past_deadline = outer_.deadline && slot > *outer_.deadline;
    const bool waited = past_deadline || client_.rate_limiter().clock().SleepUntil(slot, &stop_);
    {
      std::lock_guard lk(mu_);
      if (!waited || page > EndLocked()) {
        --in_flight_;
        cv_.notify_all();
        continue;
      }
    }
    FetchedPage fetched;
    fetched.page = page;
    CallControl control{&stop_, outer_.deadline, slot, [this, page] {
                          std::lock_guard lk(mu_);
                          return page <= EndLocked();
                        }};
    fetched.result = client_.ReadPage(filter_, page, items_per_page_, &fetched.stats, control);
    if (Stopped() && !fetched.result.ok()) {
      fetched.result = Status::Cancelled("account " + client_.account_name() + ", product_offer/read page " +
                                         std::to_string(page) + ": cancelled");
    }
    {
      std::lock_guard lk(mu_);
      --in_flight_;
      // Given up unsent because the end moved before it: as if it had never been started.
      const bool unneeded = fetched.stats.requests == 0 && page > EndLocked();
      if (!unneeded) ready_.emplace(page, std::move(fetched));
    }
    cv_.notify_all();
  }
}

void PageStream::SetLastPage(uint32_t last) {
  {
    std::lock_guard lk(mu_);
    last_ = std::min(last_, last);
  }
  cv_.notify_all();
}

std::optional<PageStream::Item> PageStream::Next() {
  std::unique_lock lk(mu_);
  while (true) {
    if (count_) {
      Item out = std::move(*count_);
      count_.reset();
      return out;
    }
    if (next_hand_ <= EndLocked()) {
      auto it = ready_.find(next_hand_);
      if (it != ready_.end()) {
        Item out = std::move(it->second);
        ready_.erase(it);
        ++next_hand_;
        lk.unlock();
        cv_.notify_all();
        return out;
      }
    } else if (!count_pending_) {
      return std::nullopt;
    }
    if (Stopped()) {
      // An outer cancel also abandons what is in flight.
      lk.unlock();
      Stop();
      return std::nullopt;
    }
    cv_.wait_for(lk, std::chrono::milliseconds(20));
  }
}

std::optional<FetchedPage> PageStream::NextPage() {
  while (std::optional<Item> item = Next()) {
    if (auto* page = std::get_if<FetchedPage>(&*item)) return std::move(*page);
  }
  return std::nullopt;
}

}  // namespace marketsync::emag
