#include "http/internal/as_of_cache.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/clock.h"

namespace marketsync::http {

Result<AsOfCache::View> AsOfCache::ViewFor(const std::optional<FoldLimit>& limit,
                                           const std::vector<std::string_view>& projections) {
  View v;
  if (!limit) {
    MS_ASSIGN_OR_RETURN(std::unique_ptr<LogSnapshot> snapshot, log_.Snapshot());
    v.live = std::move(snapshot);
    v.reader = v.live.get();
    v.seq = v.live->head().seq;
    v.now_us = NowUs();
    return v;
  }
  const std::string key = fmt::format("{}|{}|{}", limit->to_seq ? std::to_string(*limit->to_seq) : "",
                                      limit->to_time_us ? std::to_string(*limit->to_time_us) : "",
                                      fmt::join(projections, ","));
  {
    std::lock_guard lk(folds_mu_);
    for (auto it = folds_.begin(); it != folds_.end(); ++it) {
      if (it->first == key) {
        v.as_of = it->second;
        folds_.splice(folds_.begin(), folds_, it);
        break;
      }
    }
  }
  if (!v.as_of) {
    const uint64_t head = log_.Head().seq;
    MS_ASSIGN_OR_RETURN(auto folded, FoldAsOf(log_, *limit, projections));
    v.as_of = std::shared_ptr<AsOfView>(std::move(folded));
    // A seq up to the head, or a time the fold stopped short of the head for, is settled;
    // a point past the head is not cached, as the log will grow into it.
    if ((limit->to_seq && *limit->to_seq <= head) || v.as_of->fold.last_seq < head) {
      std::lock_guard lk(folds_mu_);
      folds_.emplace_front(key, v.as_of);
      if (folds_.size() > 8) folds_.pop_back();
    }
  }
  v.reader = &v.as_of->store;
  v.seq = v.as_of->fold.last_seq;
  v.now_us = v.as_of->fold.last_recorded_at_us;
  return v;
}

std::optional<std::string> AsOfCache::CachedHistory(const std::string& target, uint64_t head) {
  std::lock_guard lk(history_mu_);
  auto it = history_.find(target);
  if (it == history_.end() || it->second.first != head) return std::nullopt;
  return it->second.second;
}

void AsOfCache::KeepHistory(const std::string& target, uint64_t head, const std::string& body) {
  std::lock_guard lk(history_mu_);
  if (history_.size() >= 256) history_.clear();
  history_[target] = {head, body};
}

}  // namespace marketsync::http
