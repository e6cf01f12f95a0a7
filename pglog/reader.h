#pragma once

// Reads of the log on PostgreSQL, with EventLog's meanings (events/event_log.h): stored
// envelopes by seq, a stream's envelopes, its version, stream ids by prefix, a key's value.
// Each is one statement; several in one REPEATABLE READ transaction see one state of the log.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"
#include "events/envelope.h"
#include "events/event_types.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog {

// Up to `limit` stored envelopes from `from_seq` on, in seq order: (seq, bytes), not decoded.
Result<std::vector<std::pair<uint64_t, std::string>>> ReadStoredPage(PgConn& conn, uint64_t from_seq, size_t limit);

// The stream's envelopes from `from_version` on, decoded and checked (kCorruption naming the
// seq of one that does not decode). Empty when the stream does not exist.
Result<std::vector<Envelope>> ReadStream(PgConn& conn, const EventTypeRegistry& types, std::string_view stream_id,
                                         uint64_t from_version = 1);

// The stream's version (0 when it does not exist).
Result<uint64_t> StreamVersion(PgConn& conn, std::string_view stream_id);

// The ids of the streams that start with `prefix`, in byte order (whatever the database's
// collation).
Result<std::vector<std::string>> StreamIds(PgConn& conn, std::string_view prefix);

// A key's value in a family (meta, a projection's rows), or nullopt.
Result<std::optional<std::string>> GetKv(PgConn& conn, std::string_view family, std::string_view key);

}  // namespace marketsync::pglog
