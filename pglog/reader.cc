#include "pglog/reader.h"

#include <algorithm>

#include "events/envelope_codec.h"

namespace marketsync::pglog {

Result<std::vector<std::pair<uint64_t, std::string>>> ReadStoredPage(PgConn& conn, uint64_t from_seq, size_t limit) {
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT seq, envelope FROM ms_events WHERE seq >= $1 ORDER BY seq LIMIT $2",
                                           {PgParam::Text(std::to_string(from_seq)), PgParam::Text(std::to_string(limit))}));
  std::vector<std::pair<uint64_t, std::string>> out;
  out.reserve(r.rows.size());
  for (auto& row : r.rows) out.emplace_back(std::stoull(*row[0]), std::move(*row[1]));
  return out;
}

Result<std::vector<Envelope>> ReadStream(PgConn& conn, const EventTypeRegistry& types, std::string_view stream_id,
                                         uint64_t from_version) {
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT seq, envelope FROM ms_events WHERE stream_id = $1 AND version >= $2 "
                                           "ORDER BY version",
                                           {PgParam::Text(std::string(stream_id)),
                                            PgParam::Text(std::to_string(std::max<uint64_t>(from_version, 1)))}));
  std::vector<Envelope> out;
  out.reserve(r.rows.size());
  for (const auto& row : r.rows) {
    MS_ASSIGN_OR_RETURN(Envelope e, DecodeEnvelope(*row[1], std::stoull(*row[0]), types));
    out.push_back(std::move(e));
  }
  return out;
}

Result<uint64_t> StreamVersion(PgConn& conn, std::string_view stream_id) {
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT version FROM ms_streams WHERE stream_id = $1",
                                           {PgParam::Text(std::string(stream_id))}));
  return r.rows.empty() ? uint64_t{0} : std::stoull(*r.rows[0][0]);
}

Result<std::vector<std::string>> StreamIds(PgConn& conn, std::string_view prefix) {
  // COLLATE "C": byte order, as RocksDB's keys sort, whatever the database was created with.
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT stream_id FROM ms_streams WHERE starts_with(stream_id, $1) "
                                           "ORDER BY stream_id COLLATE \"C\"",
                                           {PgParam::Text(std::string(prefix))}));
  std::vector<std::string> out;
  out.reserve(r.rows.size());
  for (auto& row : r.rows) out.push_back(std::move(*row[0]));
  return out;
}

Result<std::optional<std::string>> GetKv(PgConn& conn, std::string_view family, std::string_view key) {
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT value FROM ms_kv WHERE family = $1 AND key = $2",
                                           {PgParam::Text(std::string(family)), PgParam::Bytes(std::string(key))}));
  if (r.rows.empty()) return std::optional<std::string>();
  return std::move(r.rows[0][0]);
}

}  // namespace marketsync::pglog
