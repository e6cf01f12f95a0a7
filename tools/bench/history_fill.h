#pragma once

// Fills a log with many finished runs (SyncRequested + SyncStarted + PageCommitted + a terminal
// event each, two accounts, about one in ten failed), for the history benches. Run i is
// requested (its id's time) at base_us + i * step_us.

#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "events/event_log.h"
#include "schema/payload_codec.h"
#include "schema/sync_events.h"
#include "projections/run_record.h"

namespace marketsync::bench {

inline void FillRuns(EventLog& log, uint64_t runs, int64_t base_us = 1'764'000'000'000'000, int64_t step_us = 1000) {
  std::mt19937_64 rng(7);
  std::vector<Step> batch;
  for (uint64_t i = 0; i < runs; ++i) {
    const std::string id = fmt::format("{:016x}{:08x}", static_cast<uint64_t>(base_us + static_cast<int64_t>(i) * step_us), static_cast<uint32_t>(rng()));
    SyncRequested req;
    req.run_id = id;
    req.group_id = id;
    req.account = i % 2 == 0 ? "main" : "fbe";
    req.params.mode = "full";
    req.triggered_by = "bench";
    SyncStarted started;
    started.attempt = 1;
    started.total_items = 1275;
    started.total_pages = 13;
    PageCommitted page;
    page.page = 1;
    page.items = 100;
    page.created = 100;
    Step step;
    StreamAppend& sa = step.streams.emplace_back();
    sa.stream_id = RunStreamId(id);
    sa.expected_version = kNoStream;
    sa.events = {MakeEvent(req), MakeEvent(started), MakeEvent(page)};
    if (rng() % 10 == 0) {
      SyncFailed f;
      f.error_class = "auth";
      f.message = "refused";
      sa.events.push_back(MakeEvent(f));
    } else {
      SyncCompleted c;
      c.totals.processed = 100;
      c.totals.created = 100;
      sa.events.push_back(MakeEvent(c));
    }
    batch.push_back(std::move(step));
    if (batch.size() == 500 || i + 1 == runs) {
      for (const auto& r : log.AppendAll(std::move(batch))) {
        if (!r.ok()) throw std::runtime_error(r.status().ToString());
      }
      batch.clear();
    }
  }
}

}  // namespace marketsync::bench
