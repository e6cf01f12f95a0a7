#include "engine/emag/page_stream.h"

#include "base/thread_name.h"

namespace marketsync::emag {

PageStream::PageStream(EmagClient& client, OfferFilter filter, uint32_t first, uint32_t last,
                       uint32_t items_per_page, uint32_t window, CallControl control)
    : client_(client), filter_(std::move(filter)), last_(last), items_per_page_(items_per_page),
      window_(std::max<uint32_t>(window, 1)), outer_(control), next_start_(first), next_hand_(first) {
  const uint32_t pages = last >= first ? last - first + 1 : 0;  // huge when open-ended
  const uint32_t threads = std::min(window_, pages);
  workers_.reserve(threads);
  for (uint32_t i = 0; i < threads; ++i) workers_.emplace_back([this] { Work(); });
}

PageStream::~PageStream() {
  Stop();
  for (auto& w : workers_) w.join();
}

bool PageStream::Stopped() const {
  return stop_.load() || (outer_.cancel != nullptr && outer_.cancel->load());
}

void PageStream::Stop() {
  bool abandon = false;
  {
    std::lock_guard lk(mu_);
    if (stop_.exchange(true)) return;
    abandon = in_flight_ > 0;
  }
  cv_.notify_all();
  if (abandon) client_.AbortInFlight();
}

void PageStream::Work() {
  SetThreadName("ms-fetch");
  while (true) {
    uint32_t page = 0;
    {
      std::unique_lock lk(mu_);
      cv_.wait(lk, [&] { return Stopped() || next_start_ > last_ || next_start_ < next_hand_ + window_; });
      if (Stopped() || next_start_ > last_) return;
      page = next_start_++;
      ++in_flight_;
    }
    FetchedPage fetched;
    fetched.page = page;
    CallControl control{&stop_, outer_.deadline};
    fetched.result = client_.ReadPage(filter_, page, items_per_page_, &fetched.stats, control);
    if (Stopped() && !fetched.result.ok()) {
      fetched.result = Status::Cancelled("account " + client_.account_name() + ", product_offer/read page " +
                                         std::to_string(page) + ": cancelled");
    }
    {
      std::lock_guard lk(mu_);
      --in_flight_;
      ready_.emplace(page, std::move(fetched));
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

std::optional<FetchedPage> PageStream::Next() {
  std::unique_lock lk(mu_);
  while (true) {
    if (next_hand_ > last_) return std::nullopt;
    auto it = ready_.find(next_hand_);
    if (it != ready_.end()) {
      FetchedPage out = std::move(it->second);
      ready_.erase(it);
      ++next_hand_;
      lk.unlock();
      cv_.notify_all();
      return out;
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

}  // namespace marketsync::emag
