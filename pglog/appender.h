#pragma once

// The append path of the log on PostgreSQL (docs/postgres-plan.md, "An append"): a group of
// steps in one transaction that holds the head row, so appends from any number of nodes get
// gap-free seqs and one SHA-256 chain, with the envelope bytes events/ writes on RocksDB.
// Projections are not folded here yet.

#include <cstdint>
#include <functional>
#include <vector>

#include "base/status.h"
#include "events/event_types.h"
#include "events/step.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog {

// Appends `steps` in order in one transaction, each on its own terms: a step whose expected
// stream versions or key expectations do not hold is refused (kFailedPrecondition) and a step
// with invalid fields (kInvalidArgument), writing nothing, while the others land; a later step
// sees what earlier ones of the group wrote. Returns one result per step once the transaction
// committed. Errors of the whole group (nothing landed, or, when the connection dropped during
// COMMIT, unknown): PgConn's.
Result<std::vector<Result<AppendResult>>> AppendGroup(PgConn& conn, const EventTypeRegistry& types,
                                                      std::vector<Step>& steps, const std::function<int64_t()>& now_us);

}  // namespace marketsync::pglog
