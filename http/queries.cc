#include "http/internal/queries.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include <map>

#include "base/clock.h"
#include "events/event_log.h"
#include "http/errors.h"
#include "http/internal/json_reply.h"
#include "http/internal/params.h"
#include "projections/catalog.h"
#include "projections/history.h"
#include "projections/json_views.h"
#include "projections/offer_history.h"
#include "projections/overview.h"
#include "projections/rollup.h"
#include "projections/stats.h"
#include "projections/status.h"
#include "schema/stream_ids.h"

namespace marketsync::http {
namespace {

namespace json = boost::json;

// Runs started together (account_type "both"), each with its per-account children.
json::array GroupsJson(const std::vector<RunRecord>& runs) {
  json::array groups;
  for (const HistoryGroup& g : GroupHistory(runs)) {
    json::array children, accounts;
    uint64_t created = 0, updated = 0, unchanged = 0, removed = 0, failed = 0;
    for (const RunRecord* r : g.runs) {
      children.push_back(json::string(r->id));
      accounts.push_back(json::string(r->account_type));
      created += r->created_items;
      updated += r->updated_items;
      unchanged += r->unchanged_items;
      removed += r->removed_items;
      failed += r->failed_items;
    }
    groups.push_back(json::object{{"group_id", g.group_id}, {"status", g.status}, {"account_types", std::move(accounts)},
                                  {"children", std::move(children)}, {"created_items", created},
                                  {"updated_items", updated}, {"unchanged_items", unchanged},
                                  {"removed_items", removed}, {"failed_items", failed}});
  }
  return groups;
}

Result<HistoryQuery> HistoryQueryOf(const Request& req) {
  HistoryQuery q;
  MS_ASSIGN_OR_RETURN(q.limit, UintParam(req, "limit", 50, 1, 1000));
  MS_ASSIGN_OR_RETURN(std::optional<std::string> cursor, Param(req, "cursor"));
  q.cursor = cursor.value_or("");
  MS_ASSIGN_OR_RETURN(std::optional<std::string> account, Param(req, "account_type"));
  if (account && !account->empty()) q.account = *account;
  MS_ASSIGN_OR_RETURN(std::optional<std::string> status, Param(req, "status"));
  if (status && !status->empty()) q.status = *status;
  MS_ASSIGN_OR_RETURN(q.from_us, TimeParam(req, "from"));
  MS_ASSIGN_OR_RETURN(q.to_us, TimeParam(req, "to"));
  return q;
}

Result<json::array> RecentRunsJson(const KvReader& reader, int64_t now) {
  MS_ASSIGN_OR_RETURN(HistoryPage recent,
                      ListHistory(reader, HistoryQuery{std::nullopt, std::nullopt, std::nullopt, std::nullopt, 10, ""}));
  json::array out;
  for (const auto& r : recent.runs) out.push_back(RunJson(r, now));
  return out;
}

}  // namespace

Reply QueryHandlers::History(const Request& req) {
  const uint64_t head = ctx_.log.Head().seq;
  if (auto cached = cache_.CachedHistory(req.target, head)) return {200, std::move(*cached), "application/json", {}};
  auto q = HistoryQueryOf(req);
  if (!q.ok()) return StatusReply(q.status());
  auto as_of = AsOfParam(req);
  if (!as_of.ok()) return StatusReply(as_of.status());
  auto view = cache_.ViewFor(*as_of, {HistoryProjection::kName});
  if (!view.ok()) return StatusReply(view.status());
  auto page = ListHistory(*view->reader, *q);
  if (!page.ok()) return StatusReply(page.status());
  json::array syncs;
  bool in_flight = false;
  for (const auto& r : page->runs) {
    syncs.push_back(RunJson(r, view->now_us));
    in_flight = in_flight || !r.terminal();
  }
  const size_t count = syncs.size();
  json::object data{{"syncs", std::move(syncs)},
                    {"groups", GroupsJson(page->runs)},
                    {"count", count},
                    {"next_cursor", page->next_cursor.empty() ? json::value(nullptr) : json::value(page->next_cursor)},
                    {"as_of_seq", view->seq}};
  Reply reply = JsonReply(200, json::object{{"status", "success"}, {"data", std::move(data)}});
  // Pages with a run in flight are not kept: their durations move with the clock.
  if (!in_flight && ctx_.log.Head().seq == head) cache_.KeepHistory(req.target, head, reply.body);
  return reply;
}

Reply QueryHandlers::Current(const Request&) {
  const int64_t now = NowUs();
  auto snap = ctx_.log.Snapshot();  // the runs in flight and the recent ones of one head
  if (!snap.ok()) return StatusReply(snap.status());
  auto active = ListActiveRuns(**snap, now);
  if (!active.ok()) return StatusReply(active.status());
  auto recent = RecentRunsJson(**snap, now);
  if (!recent.ok()) return StatusReply(recent.status());
  json::array current;
  size_t queued = 0;
  for (const auto& a : *active) {
    current.push_back(ActiveRunJson(a, now));
    queued += !a.record.terminal() && a.record.started_at_us == 0 ? 1 : 0;
  }
  const bool running = !current.empty();
  json::value first = running ? current.front() : json::value(nullptr);
  return JsonReply(200, json::object{{"is_running", running},
                                     {"queued_syncs", queued},
                                     {"current_sync", std::move(first)},
                                     {"current_syncs", std::move(current)},
                                     {"recent_syncs", std::move(*recent)},
                                     {"last_seq", (*snap)->head().seq}});
}

Reply QueryHandlers::Run(const Request& req) {
  auto run = GetHistoryRun(ctx_.log, req.path_id());
  if (!run.ok()) return StatusReply(run.status());
  if (!*run) return ErrorReply(404, "not_found", "no run " + req.path_id());
  return JsonReply(200, json::object{{"status", "success"}, {"data", RunJson(**run, NowUs())}});
}

Reply QueryHandlers::RunEvents(const Request& req) {
  auto events = ctx_.log.ReadStream(RunStreamId(req.path_id()));
  if (!events.ok()) return StatusReply(events.status());
  if (events->empty()) return ErrorReply(404, "not_found", "no run " + req.path_id());
  json::array out;
  for (const auto& e : *events) {
    auto j = EventJson(e);
    if (!j.ok()) return StatusReply(j.status());
    out.push_back(std::move(*j));
  }
  return JsonReply(200, json::object{{"status", "success"},
                                     {"data", json::object{{"sync_id", req.path_id()}, {"events", std::move(out)}}}});
}

Reply QueryHandlers::Statistics(const Request&) {
  auto snap = ctx_.log.Snapshot();  // the counts and the recent runs of one head
  if (!snap.ok()) return StatusReply(snap.status());
  auto stats = GetStats(**snap);
  if (!stats.ok()) return StatusReply(stats.status());
  json::object by_account;
  for (const auto& account : ctx_.engine.account_names()) by_account[account] = 0;
  json::array accounts;
  for (const auto& a : stats->accounts) {
    by_account[a.account] = a.offers;
    accounts.push_back(AccountStatsJson(a));
  }
  auto recent = RecentRunsJson(**snap, NowUs());
  if (!recent.ok()) return StatusReply(recent.status());
  return JsonReply(200, json::object{{"status", "success"},
                                     {"products_by_account", std::move(by_account)},
                                     {"total_products", stats->total_offers},
                                     {"recent_syncs", std::move(*recent)},
                                     {"accounts", std::move(accounts)},
                                     {"runs_finished", stats->total_runs_finished},
                                     {"runs_completed", stats->total_runs_completed}});
}

Reply QueryHandlers::Overview(const Request& req) {
  OverviewQuery q;
  auto days = UintParam(req, "days", 30, 1, 366);
  auto runs = UintParam(req, "runs", 200, 1, 1000);
  auto account = Param(req, "account_type");
  auto as_of = AsOfParam(req);
  for (const Status* s : {&days.status(), &runs.status(), &account.status(), &as_of.status()}) {
    if (!s->ok()) return StatusReply(*s);
  }
  q.days = static_cast<uint32_t>(*days);
  q.runs = *runs;
  if (*account && !(*account)->empty()) q.account = **account;
  auto view = cache_.ViewFor(*as_of, {HistoryProjection::kName, StatusProjection::kName, StatsProjection::kName,
                                      RollupProjection::kName});
  if (!view.ok()) return StatusReply(view.status());
  auto overview = BuildOverview(*view->reader, q, ctx_.engine.account_names(), view->now_us);
  if (!overview.ok()) return StatusReply(overview.status());
  json::object data = OverviewJson(*overview, view->now_us);
  data["as_of_seq"] = view->seq;
  return JsonReply(200, json::object{{"status", "success"}, {"data", std::move(data)}});
}

Reply QueryHandlers::OfferHistory(const Request& req) {
  auto offer_id = OfferIdSegment(req, 1);
  if (!offer_id.ok()) return StatusReply(offer_id.status());
  auto as_of = AsOfParam(req);
  if (!as_of.ok()) return StatusReply(as_of.status());
  auto history = ReadOfferHistory(ctx_.log, req.path_args.at(0), *offer_id, as_of->value_or(FoldLimit{}));
  if (!history.ok()) return StatusReply(history.status());
  return JsonReply(200, json::object{{"status", "success"}, {"data", OfferHistoryJson(*history)}});
}

Reply QueryHandlers::Products(const Request& req) {
  CatalogQuery q;
  auto skip = UintParam(req, "skip", 0, 0, 100'000'000);
  auto limit = UintParam(req, "limit", 50, 1, 1000);
  auto account = Param(req, "account_type");
  auto search = Param(req, "search");
  for (const Status* s : {&skip.status(), &limit.status(), &account.status(), &search.status()}) {
    if (!s->ok()) return StatusReply(*s);
  }
  q.skip = *skip;
  q.limit = *limit;
  if (*account && !(*account)->empty()) q.account = **account;
  q.search = search->value_or("");
  auto snap = ctx_.log.Snapshot();  // the page and the accounts' last syncs of one head
  if (!snap.ok()) return StatusReply(snap.status());
  auto page = SearchCatalog(**snap, q);
  if (!page.ok()) return StatusReply(page.status());
  std::map<std::string, int64_t> last_synced;
  if (auto stats = GetStats(**snap); stats.ok()) {
    for (const auto& a : stats->accounts) last_synced[a.account] = a.last_success_at_us;
  }
  json::array products;
  for (const auto& e : page->offers) {
    json::object o = CatalogEntryJson(e);
    const int64_t at = last_synced[e.account];
    o["last_synced_at"] = at != 0 ? json::value(FormatTimeUs(at)) : json::value(nullptr);
    products.push_back(std::move(o));
  }
  json::object pagination{{"skip", q.skip}, {"limit", q.limit}, {"total", page->total}};
  return JsonReply(200, json::object{{"status", "success"},
                                     {"data", json::object{{"products", std::move(products)},
                                                           {"pagination", std::move(pagination)}}}});
}

Reply QueryHandlers::Events(const Request& req) {
  auto after = UintParam(req, "after", 0, 0, UINT64_MAX >> 1);
  if (!after.ok()) return StatusReply(after.status());
  auto limit = UintParam(req, "limit", 100, 1, 1000);
  if (!limit.ok()) return StatusReply(limit.status());
  const bool ndjson = req.Header("Accept").find("application/x-ndjson") != std::string::npos;
  std::string body;
  json::array arr;
  uint64_t n = 0;
  auto it = ctx_.log.Read(*after + 1);
  for (; it->Valid() && n < *limit; it->Next(), ++n) {
    auto j = EventJson(it->envelope());
    if (!j.ok()) return StatusReply(j.status());
    if (ndjson) {
      body += RenderJson(*j);
      body += '\n';
    } else {
      arr.push_back(std::move(*j));
    }
  }
  if (!it->status().ok()) return StatusReply(it->status());
  if (ndjson) return {200, std::move(body), "application/x-ndjson", {}};
  return JsonReply(200, arr);
}

Reply QueryHandlers::AuditHead(const Request&) {
  const LogHead head = ctx_.log.Head();
  return JsonReply(200, json::object{{"last_seq", head.seq}, {"head_hash", HashToHex(head.hash)}});
}

}  // namespace marketsync::http
