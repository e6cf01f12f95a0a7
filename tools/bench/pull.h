#pragma once

// The raw pull the sync benchmarks compare with: every page of one account through the client,
// nothing else. Shared by emag_bench and engine_bench.

#include <stdexcept>

#include "engine/emag/client.h"
#include "engine/emag/page_stream.h"
#include "tools/bench/bench_util.h"

namespace marketsync::bench {

struct PullResult {
  uint64_t offers = 0;
  uint32_t pages = 0;
  uint64_t requests = 0;
  uint64_t rate_limit_hits = 0;
  double seconds = 0;
};

// Counts and reads every page at once, as the engine does: product_offer/count goes first and
// the first page requests beside it, so its latency is hidden too; the count (or a short page)
// ends the stream. Throws on any failed call.
inline PullResult Pull(emag::EmagClient& client, uint32_t window) {
  PullResult r;
  const auto start = Clock::now();
  emag::PageStreamOptions o;
  o.window = window;
  o.count = true;
  emag::PageStream stream(client, {}, o, {});
  while (auto item = stream.Next()) {
    if (auto* count = std::get_if<emag::FetchedCount>(&*item)) {
      if (!count->result.ok()) throw std::runtime_error(count->result.status().ToString());
      r.requests += count->stats.requests;
      r.rate_limit_hits += count->stats.rate_limit_hits;
      continue;
    }
    const emag::FetchedPage& page = std::get<emag::FetchedPage>(*item);
    if (!page.result.ok()) throw std::runtime_error(page.result.status().ToString());
    r.offers += page.result->offers.size();
    r.requests += page.stats.requests;
    r.rate_limit_hits += page.stats.rate_limit_hits;
    ++r.pages;
    if (page.result->offers.size() < 100) stream.SetLastPage(page.page);
  }
  r.seconds = SecondsSince(start);
  return r;
}

}  // namespace marketsync::bench
