#pragma once

// The log's tables on PostgreSQL (docs/postgres-plan.md): the head row, the events, the stream
// versions and every key-value family (meta, projections, engine state).

#include <string_view>

#include "base/status.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog {

// The channel every committed group NOTIFYs with the new head seq (its payload, in decimal):
// followers LISTEN on it (head_listener.h) instead of polling the head row.
inline constexpr std::string_view kHeadChannel = "ms_head";

// The schema's version, stored in ms_schema; a database of another version is refused.
inline constexpr int kSchemaVersion = 1;

// Creates what is missing, in one transaction; a database already at kSchemaVersion is left
// as it is. Errors: kFailedPrecondition (another schema version), PgConn's errors.
Status EnsureSchema(PgConn& conn);

struct PgHead {
  uint64_t seq = 0;  // 0 for an empty log
  std::string hash;  // 32 bytes (zeros for an empty log)
};

// The head row as committed now. Errors: kCorruption (missing or malformed row), PgConn's.
Result<PgHead> ReadHead(PgConn& conn);

}  // namespace marketsync::pglog
