#pragma once

// Verify on PostgreSQL: the log's rows read in seq order, in pages, through events/'s
// ChainCheck, so the findings are the ones `marketsync verify` makes on RocksDB.

#include <cstdint>

#include "base/status.h"
#include "events/event_log.h"
#include "events/event_types.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog {

// Checks [from_seq, to_seq] (to_seq 0: the head) as EventLog::Verify does, in one
// REPEATABLE READ transaction (one view of the log, however many pages it reads).
// Errors: PgConn's only; corruption is a finding in the report.
Result<VerifyReport> VerifyLog(PgConn& conn, const EventTypeRegistry& types, uint64_t from_seq = 1, uint64_t to_seq = 0);

}  // namespace marketsync::pglog
