#include "http/internal/run_metrics.h"

#include <fmt/format.h>

#include "base/clock.h"
#include "events/event_log.h"
#include "http/metrics.h"
#include "projections/stats.h"
#include "projections/status.h"
#include "schema/event_type.h"
#include "schema/payload_codec.h"
#include "schema/sync_events.h"

namespace marketsync::http {

void RunMetrics::Describe() {
  Metrics& m = ctx_.metrics;
  m.Describe("marketsync_http_requests_total", "counter", "HTTP requests by route, method and status");
  m.Describe("marketsync_http_request_duration_seconds", "histogram", "HTTP request latency by route");
  m.Describe("marketsync_pages_total", "counter", "Pages committed or failed since start");
  m.Describe("marketsync_offers_total", "counter", "Offers by outcome since start");
  m.Describe("marketsync_emag_requests_total", "counter", "eMAG API requests recorded by pages (committed or failed) and counts");
  m.Describe("marketsync_emag_rate_limited_total", "counter", "eMAG 429 answers");
  m.Describe("marketsync_emag_retries_total", "counter", "eMAG request retries");
  m.Describe("marketsync_events_appended_total", "counter", "Events appended since start, by type");
  m.Describe("marketsync_runs_finished", "gauge", "Runs by account and final status (from the log)");
  m.Describe("marketsync_runs_active", "gauge", "Runs not finished");
  m.Describe("marketsync_offers", "gauge", "Offers mirrored per account");
  m.Describe("marketsync_log_head_seq", "gauge", "The last durable seq");
  m.Describe("marketsync_log_fail_stopped", "gauge",
             "1 once a synced write failed (a full disk, a disk error): no command is accepted until restart");
}

std::string RunMetrics::Text() {
  Metrics& m = ctx_.metrics;
  // Runs by status and offers per account come from the stats projection at scrape time.
  auto stats = GetStats(ctx_.log);
  if (stats.ok()) {
    for (const auto& a : stats->accounts) {
      const std::string acc = fmt::format("account=\"{}\"", LabelValue(a.account));
      m.Set("marketsync_offers", acc, static_cast<double>(a.offers));
      const std::pair<std::string_view, uint64_t> by_status[] = {{kRunCompleted, a.runs_completed},
                                                                 {kRunCompletedWithGaps, a.runs_completed_with_gaps},
                                                                 {kRunFailed, a.runs_failed},
                                                                 {kRunCancelled, a.runs_cancelled}};
      for (const auto& [status, n] : by_status) {
        m.Set("marketsync_runs_finished", fmt::format("{},status=\"{}\"", acc, status), static_cast<double>(n));
      }
    }
  }
  auto active = ListActiveRuns(ctx_.log, NowUs());
  if (active.ok()) m.Set("marketsync_runs_active", "", static_cast<double>(active->size()));
  m.Set("marketsync_log_head_seq", "", static_cast<double>(ctx_.log.Head().seq));
  m.Set("marketsync_log_fail_stopped", "", ctx_.log.WriterStatus().ok() ? 0.0 : 1.0);
  return m.Render();
}

void RunMetrics::Follow(const std::atomic<bool>& stopping) {
  uint64_t next = ctx_.log.Head().seq + 1;
  while (!stopping) {
    ctx_.log.WaitForSeq(next - 1, std::chrono::milliseconds(200));
    for (auto it = ctx_.log.Read(next); it->Valid() && !stopping; it->Next()) {
      const Envelope& e = it->envelope();
      next = e.seq + 1;
      Count(e);
    }
  }
}

namespace {
// Requests to eMAG, as a page (committed or failed) or the count recorded them.
template <typename T>
void CountRequests(Metrics& m, const T& p) {
  m.Add("marketsync_emag_requests_total", "", p.requests);
  m.Add("marketsync_emag_rate_limited_total", "", p.rate_limit_hits);
  m.Add("marketsync_emag_retries_total", "", p.retries);
}
}  // namespace

void RunMetrics::Count(const Envelope& e) {
  Metrics& m = ctx_.metrics;
  const auto type = static_cast<EventType>(e.type);
  m.Add("marketsync_events_appended_total", fmt::format("type=\"{}\"", EventTypeName(e.type)));
  if (type == EventType::kPageCommitted) {
    auto p = DecodePayload<PageCommitted>(e.payload_version, e.payload);
    if (!p.ok()) return;
    m.Add("marketsync_pages_total", "outcome=\"committed\"");
    m.Add("marketsync_offers_total", "outcome=\"created\"", p->created);
    m.Add("marketsync_offers_total", "outcome=\"updated\"", p->updated);
    m.Add("marketsync_offers_total", "outcome=\"unchanged\"", p->unchanged);
    CountRequests(m, *p);
  } else if (type == EventType::kPageFailed) {
    m.Add("marketsync_pages_total", "outcome=\"failed\"");
    if (auto p = DecodePayload<PageFailed>(e.payload_version, e.payload); p.ok()) CountRequests(m, *p);
  } else if (type == EventType::kSyncCounted) {
    if (auto p = DecodePayload<SyncCounted>(e.payload_version, e.payload); p.ok()) CountRequests(m, *p);
  } else if (type == EventType::kProductRemoved) {
    m.Add("marketsync_offers_total", "outcome=\"removed\"");
  }
}

}  // namespace marketsync::http
