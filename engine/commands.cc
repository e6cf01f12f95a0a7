#include "engine/internal/commands.h"

#include <algorithm>

#include "schema/payload_codec.h"
#include "schema/run_enums.h"
#include "schema/store_keys.h"
#include "schema/stream_ids.h"
#include "schema/sync_events.h"

namespace marketsync {
namespace {

constexpr int64_t kMaxPages = 1'000'000;

std::string AccountList(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out + " or both";
}

Status ValidateIdempotencyKey(const std::string& key) {
  if (key.size() > kMaxIdempotencyKey) {
    return Status::InvalidArgument("the idempotency key is longer than " + std::to_string(kMaxIdempotencyKey) + " bytes");
  }
  for (char c : key) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) return Status::InvalidArgument("the idempotency key must be printable");
  }
  return Status::Ok();
}

}  // namespace

Result<std::vector<std::string>> ValidateStartSync(const StartSyncRequest& r, const std::vector<std::string>& configured) {
  std::vector<std::string> accounts;
  if (r.account_type.empty()) return Status::InvalidArgument("account_type is required: one of " + AccountList(configured));
  if (r.account_type == "both") {
    accounts = configured;
    if (accounts.empty()) {
      return Status::InvalidArgument("account_type \"both\" names no account: none is configured and enabled "
                                     "(add one with POST /api/v1/accounts)");
    }
  } else if (std::find(configured.begin(), configured.end(), r.account_type) != configured.end()) {
    accounts.push_back(r.account_type);
  } else {
    return Status::InvalidArgument("unknown account_type \"" + r.account_type + "\": one of " + AccountList(configured));
  }
  if (!ParseSyncMode(r.mode)) return Status::InvalidArgument("mode must be \"full\" or \"incremental\", not \"" + r.mode + "\"");
  if (r.max_pages && (*r.max_pages < 1 || *r.max_pages > kMaxPages)) {
    return Status::InvalidArgument("max_pages must be in 1..1000000 (leave it out for no limit)");
  }
  if (r.items_per_page < 1 || r.items_per_page > 100) {
    return Status::InvalidArgument("items_per_page must be in 1..100 (eMAG pages hold at most 100 offers)");
  }
  if (r.conflict_strategy != "emag_priority") {
    return Status::InvalidArgument("conflict_strategy \"" + r.conflict_strategy +
                                   "\" is not supported: marketsync pulls from eMAG into a read-only mirror, "
                                   "so eMAG's data always wins; use \"emag_priority\"");
  }
  MS_RETURN_IF_ERROR(ValidateIdempotencyKey(r.idempotency_key));
  if (r.triggered_by.empty() || r.triggered_by.size() > 100) {
    return Status::InvalidArgument("triggered_by must be 1..100 bytes (leave it out for \"api\")");
  }
  return accounts;
}

Step StartStep(const StartSyncRequest& request, const std::vector<std::string>& accounts, const std::string& group_id,
               const std::vector<std::string>& run_ids, const std::string& holder) {
  Step step;
  step.correlation_id = "start-" + group_id;
  SyncParams params;
  params.mode = request.mode;
  params.max_pages = static_cast<uint32_t>(request.max_pages.value_or(0));
  params.items_per_page = static_cast<uint32_t>(request.items_per_page);
  params.include_inactive = request.include_inactive;
  params.conflict_strategy = request.conflict_strategy;
  IdempotencyRecord idem;
  idem.group_id = group_id;
  const std::string meta(EventLog::kMetaFamily);
  for (size_t i = 0; i < accounts.size(); ++i) {
    SyncRequested ev;
    ev.run_id = run_ids[i];
    ev.group_id = group_id;
    ev.account = accounts[i];
    ev.params = params;
    ev.triggered_by = request.triggered_by;
    ev.idempotency_key = request.idempotency_key;
    step.streams.push_back({RunStreamId(ev.run_id), kNoStream, {MakeEvent(ev)}});
    step.expect.push_back({meta, LeaseKey(accounts[i]), std::nullopt});
    step.writes.push_back({meta, LeaseKey(accounts[i]), ev.run_id});
    step.writes.push_back({meta, OwnerKey(ev.run_id), holder});
    idem.run_ids.push_back(ev.run_id);
    idem.accounts.push_back(accounts[i]);
  }
  if (!request.idempotency_key.empty()) {
    step.expect.push_back({meta, IdempotencyKey(request.idempotency_key), std::nullopt});
    step.writes.push_back({meta, IdempotencyKey(request.idempotency_key), EncodeFields(idem)});
  }
  return step;
}

Result<std::optional<StartSyncResult>> ReplayIdempotencyKey(const EventLog& log, const std::string& key) {
  MS_ASSIGN_OR_RETURN(auto stored, log.Get(EventLog::kMetaFamily, IdempotencyKey(key)));
  if (!stored) return std::optional<StartSyncResult>();
  MS_ASSIGN_OR_RETURN(IdempotencyRecord idem, DecodeFields<IdempotencyRecord>(*stored, "idempotency record"));
  StartSyncResult r;
  r.group_id = idem.group_id;
  r.replayed = true;
  for (size_t i = 0; i < idem.run_ids.size() && i < idem.accounts.size(); ++i) r.runs.push_back({idem.run_ids[i], idem.accounts[i]});
  return std::optional<StartSyncResult>(std::move(r));
}

Status RefuseBusy(const EventLog& log, const std::vector<std::string>& accounts) {
  for (const auto& account : accounts) {
    MS_ASSIGN_OR_RETURN(auto holder, log.Get(EventLog::kMetaFamily, LeaseKey(account)));
    if (holder) {
      return Status::FailedPrecondition("account " + account + " is busy: run " + *holder +
                                        " is syncing it (cancel that run or wait for it to finish)");
    }
  }
  return Status::Ok();
}

Step CancelStep(const RunRecord& record, const std::string& requested_by) {
  SyncCancelRequested ev;
  ev.requested_by = requested_by;
  Step step;
  step.correlation_id = "cancel-" + record.id;
  step.streams.push_back({RunStreamId(record.id), kAnyVersion, {MakeEvent(ev)}});
  // Only while the run still holds its account: not on top of its terminal step.
  step.expect.push_back({std::string(EventLog::kMetaFamily), LeaseKey(record.account_type), record.id});
  return step;
}

}  // namespace marketsync
