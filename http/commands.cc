#include "http/internal/commands.h"

#include <boost/json.hpp>
#include <fmt/format.h>

#include "engine/emag/client.h"
#include "engine/sync_engine.h"
#include "http/errors.h"
#include "http/internal/json_reply.h"
#include "http/internal/params.h"

namespace marketsync::http {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

json::array RunsJson(const StartSyncResult& started) {
  json::array runs;
  for (const auto& r : started.runs) runs.push_back(json::object{{"sync_id", r.run_id}, {"account_type", r.account}});
  return runs;
}

}  // namespace

Reply CommandHandlers::StartSync(const Request& req) {
  if (ctx_.draining) return ErrorReply(503, "draining", "the server is shutting down and takes no new syncs");
  auto body = ParseSyncBody(req.body);
  if (!body.ok()) return StatusReply(body.status());
  body->request.idempotency_key = req.Header("Idempotency-Key");
  auto started = ctx_.engine.StartSync(body->request);
  if (!started.ok()) {
    const HttpError e = ToHttpError(started.status(), Operation::kStartSync);
    return ErrorReply(e.status, e.code, started.status().message());
  }
  if (!body->run_async) return WaitForRuns(*started, body->request.account_type);
  json::object o{{"status", "accepted"},
                 {"message", started->replayed ? "these runs were already started with this Idempotency-Key"
                                               : fmt::format("sync started for {}", body->request.account_type)},
                 {"sync_id", started->runs.front().run_id},
                 {"group_id", started->group_id},
                 {"replayed", started->replayed},
                 {"runs", RunsJson(*started)}};
  return JsonReply(202, o);
}

Reply CommandHandlers::WaitForRuns(const StartSyncResult& started, const std::string& account_type) {
  const auto deadline = Clock::now() + ctx_.options.sync_wait;
  const std::string first = started.runs.front().run_id;
  uint64_t processed = 0, created = 0, updated = 0, unchanged = 0, removed = 0, failed = 0;
  json::array errors;
  std::string status(kRunCompleted);
  for (const auto& r : started.runs) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    auto record = ctx_.engine.WaitForRun(r.run_id, std::max(left, std::chrono::milliseconds(0)));
    if (!record.ok()) return StatusReply(record.status());
    if (!record->terminal()) {
      return JsonReply(202, json::object{{"status", "running"},
                                         {"message", "the sync is still running; poll /status or the run"},
                                         {"sync_id", first},
                                         {"runs", RunsJson(started)}});
    }
    processed += record->processed_items;
    created += record->created_items;
    updated += record->updated_items;
    unchanged += record->unchanged_items;
    removed += record->removed_items;
    failed += record->failed_items;
    for (const auto& e : record->errors) errors.push_back(json::string(record->account_type + ": " + e.message));
    if (record->status != kRunCompleted) status = record->status;
  }
  json::object data{{"total_processed", processed}, {"created", created}, {"updated", updated},
                    {"unchanged", unchanged},       {"removed", removed}, {"failed", failed},
                    {"errors", std::move(errors)}};
  return JsonReply(200, json::object{{"status", status},
                                     {"message", fmt::format("sync of {} ended {}", account_type, status)},
                                     {"sync_id", first},
                                     {"runs", RunsJson(started)},
                                     {"data", std::move(data)}});
}

Reply CommandHandlers::CancelRun(const Request& req) {
  const std::string& id = req.path_id();
  auto r = ctx_.engine.CancelSync(id, "api");
  if (!r.ok()) return StatusReply(r.status());
  switch (r->outcome) {
    case CancelResult::Outcome::kAlreadyFinished:
      return ErrorReply(409, "already_finished", fmt::format("run {} already finished: {}", id, r->status));
    case CancelResult::Outcome::kAlreadyRequested:
      return JsonReply(202, json::object{{"status", "accepted"}, {"message", "cancellation was already requested"}, {"sync_id", id}});
    case CancelResult::Outcome::kRequested:
      break;
  }
  return JsonReply(202, json::object{{"status", "accepted"},
                                     {"message", "cancellation requested; the run stops at its next page boundary"},
                                     {"sync_id", id}});
}

Reply CommandHandlers::TestConnection(const Request& req) {
  auto account = Param(req, "account_type");
  if (!account.ok()) return StatusReply(account.status());
  if (!*account || (*account)->empty()) return ErrorReply(400, "invalid_argument", "account_type is required");
  std::shared_ptr<emag::EmagClient> client = ctx_.engine.client(**account);
  if (client == nullptr) return ErrorReply(404, "unknown_account", "no account named " + **account);
  emag::CallStats stats;
  emag::CallControl control;
  control.deadline = emag::SteadyTime(Clock::now() + std::chrono::seconds(30));
  auto count = client->Count({}, &stats, control);
  if (!count.ok()) {
    const HttpError e = ToHttpError(count.status(), Operation::kUpstreamCall);
    return ErrorReply(e.status, e.code, count.status().message());
  }
  json::object data{{"account_type", **account}, {"base_url", client->base_url()}, {"total_products", count->items}};
  return JsonReply(200, json::object{{"status", "success"},
                                     {"message", fmt::format("connected to eMAG as {}", **account)},
                                     {"data", std::move(data)}});
}

}  // namespace marketsync::http
