#pragma once

// The append path of the log on PostgreSQL (docs/postgres-plan.md, "An append"): a group of
// steps in one transaction that holds the head row, so appends from any number of nodes get
// gap-free seqs and one SHA-256 chain, with the envelope bytes events/ writes on RocksDB, and
// the projections folded in the same transaction with their checkpoints.

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "base/status.h"
#include "events/event_types.h"
#include "events/projection.h"
#include "events/step.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog {

// What a group is checked against and folded into.
struct AppendContext {
  const EventTypeRegistry* types = nullptr;  // required
  // Folded event by event, in order; a projection's error refuses the step that carried the
  // event. Each writes only its own column_families(); checkpoints land with the group.
  std::vector<Projection*> projections;
  // The families a step may write or expect (meta, extra families; the projections' are
  // added); empty: any family but the log's own.
  std::set<std::string, std::less<>> families;
};

// A group whose COMMIT went out and whose answer was lost (the connection dropped: a failover,
// a server restart): whether it landed is unknown until CheckLanded says.
struct InDoubt {
  bool commit_sent = false;
  uint64_t last_seq = 0;                      // the group's last event (0: it wrote none)
  std::string last_envelope;                  // that event's stored bytes
  std::vector<Result<AppendResult>> results;  // each step's result, if the group landed
};

// Appends `steps` in order in one transaction, each on its own terms: a step whose expected
// stream versions or key expectations do not hold is refused (kFailedPrecondition) and a step
// with invalid fields or a projection that refuses one of its events (kInvalidArgument or the
// projection's error), writing nothing, while the others land; a later step sees what earlier
// ones of the group wrote. Returns one result per step once the transaction committed. Errors
// of the whole group: PgConn's; then nothing landed, unless in_doubt->commit_sent says the
// COMMIT went out, when the outcome is unknown (the connection dropped while it was answered).
Result<std::vector<Result<AppendResult>>> AppendGroup(PgConn& conn, const AppendContext& context,
                                                      std::vector<Step>& steps, const std::function<int64_t()>& now_us,
                                                      InDoubt* in_doubt = nullptr);

// Appends envelopes exported from another log as they are (EventLog::Import's rules): all in
// one transaction, with the projections folded, or none. Errors: kInvalidArgument naming the
// first envelope that does not continue the log; otherwise as AppendGroup's (in_doubt->results
// has the one result).
Result<AppendResult> ImportGroup(PgConn& conn, const AppendContext& context, const std::vector<std::string>& stored,
                                 InDoubt* in_doubt = nullptr);

// Whether the in-doubt group landed, on a connection to the primary now (after a failover, the
// promoted standby): first a write that commits (a synchronous commit waits for the standby,
// so everything before it, a commit the old primary made visible without replicating it
// included, is as durable as it), then the group's last event looked up by its seq and
// compared byte for byte. Errors: PgConn's (try again later); kFailedPrecondition for a group
// that wrote no event (nothing to look for).
Result<bool> CheckLanded(PgConn& conn, const InDoubt& group);

// The same with no projections and any family (tests of the append alone).
inline Result<std::vector<Result<AppendResult>>> AppendGroup(PgConn& conn, const EventTypeRegistry& types,
                                                             std::vector<Step>& steps,
                                                             const std::function<int64_t()>& now_us) {
  AppendContext context;
  context.types = &types;
  return AppendGroup(conn, context, steps, now_us);
}

}  // namespace marketsync::pglog
