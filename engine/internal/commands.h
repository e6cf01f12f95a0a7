#pragma once

// The commands' rules, apart from the engine that runs them: validating a start (the one place
// a sync request is checked), the start's step (SyncRequested per account, leases, the
// idempotency key, all expected in the same write), replays of a key, busy accounts, and the
// cancel step.

#include <optional>
#include <string>
#include <vector>

#include "engine/sync_engine.h"
#include "events/event_log.h"

namespace marketsync {

// The accounts a valid request starts (account_type "both": every configured account, in
// configuration order). Errors: kInvalidArgument saying which field is wrong and why.
Result<std::vector<std::string>> ValidateStartSync(const StartSyncRequest& request,
                                                   const std::vector<std::string>& configured);

// The step that starts runs `run_ids` (one per account, same order) under `group_id`: each
// SyncRequested on a new run stream, each account's lease expected free, the idempotency key
// (when given) expected unused. Requires a request ValidateStartSync accepted.
// `holder`: the node that will execute the runs (their owner/<run> rows).
Step StartStep(const StartSyncRequest& request, const std::vector<std::string>& accounts,
               const std::string& group_id, const std::vector<std::string>& run_ids, const std::string& holder);

// The runs an Idempotency-Key started, when it was used. Errors: the log's, kCorruption.
Result<std::optional<StartSyncResult>> ReplayIdempotencyKey(const EventLog& log, const std::string& key);

// kFailedPrecondition naming the run that holds the first busy account; ok when all are free.
Status RefuseBusy(const EventLog& log, const std::vector<std::string>& accounts);

// SyncCancelRequested on the run's stream, only while the run still holds its account.
Step CancelStep(const RunRecord& record, const std::string& requested_by);

}  // namespace marketsync
