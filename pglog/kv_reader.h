#pragma once

// KvReader over PostgreSQL's ms_kv: a column family's rows read by key, and iterated in byte
// order (bytea compares as memcmp does, as RocksDB's keys sort) in pages of rows, both ways.
// Queries over projections take a KvReader, so they will answer from PostgreSQL unchanged.
// PostgreSQL keeps no list of families: one with no rows reads as empty (RocksDB says
// kInvalidArgument for a family it was not opened with).

#include <memory>

#include "events/projection.h"
#include "pglog/pg_conn.h"

namespace marketsync::pglog {

// Thread safety: the connection's (one thread at a time); iterators share it. Inside a
// REPEATABLE READ transaction every read sees one state of the log.
class PgKvReader final : public KvReader {
 public:
  // `page`: rows an iterator reads at a time.
  explicit PgKvReader(PgConn& conn, size_t page = 1000) : conn_(conn), page_(page) {}
  Result<std::optional<std::string>> Get(std::string_view cf, std::string_view key) const override;
  Result<std::unique_ptr<KvIterator>> Scan(std::string_view cf) const override;

 private:
  PgConn& conn_;
  const size_t page_;
};

}  // namespace marketsync::pglog
