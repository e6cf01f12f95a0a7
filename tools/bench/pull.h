#pragma once

// The raw pull the sync benchmarks compare with: every page of one account through the client,
// nothing else. Shared by emag_bench and engine_bench.

#include <stdexcept>
#include <thread>

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

// Counts and reads every page at once, as the engine does: product_offer/count runs beside the
// first page requests, so its latency is hidden too; the count (or a short page) ends the stream.
// Throws on any failed call.
inline PullResult Pull(emag::EmagClient& client, uint32_t window) {
  PullResult r;
  const auto start = Clock::now();
  emag::PageStream stream(client, {}, 1, emag::PageStream::kOpenEnded, 100, window, {});
  emag::CallStats count_stats;
  std::string count_error;
  std::thread counter([&] {
    auto count = client.Count({}, &count_stats);
    if (!count.ok()) {
      count_error = count.status().ToString();
      stream.Stop();
      return;
    }
    stream.SetLastPage(static_cast<uint32_t>((count->items + 99) / 100));
  });
  while (auto page = stream.Next()) {
    if (!page->result.ok()) {
      stream.Stop();
      counter.join();
      throw std::runtime_error(page->result.status().ToString());
    }
    r.offers += page->result->offers.size();
    r.requests += page->stats.requests;
    r.rate_limit_hits += page->stats.rate_limit_hits;
    ++r.pages;
    if (page->result->offers.size() < 100) stream.SetLastPage(page->page);
  }
  counter.join();
  if (!count_error.empty()) throw std::runtime_error(count_error);
  r.requests += count_stats.requests;
  r.rate_limit_hits += count_stats.rate_limit_hits;
  r.seconds = SecondsSince(start);
  return r;
}

}  // namespace marketsync::bench
