#include "pglog/schema.h"

#include <string>

namespace marketsync::pglog {
namespace {

constexpr const char* kCreate = R"sql(
CREATE TABLE IF NOT EXISTS ms_schema (
  id int PRIMARY KEY CHECK (id = 1),
  version int NOT NULL
);
CREATE TABLE IF NOT EXISTS ms_head (
  id int PRIMARY KEY CHECK (id = 1),
  seq bigint NOT NULL CHECK (seq >= 0),
  hash bytea NOT NULL CHECK (length(hash) = 32)
);
CREATE TABLE IF NOT EXISTS ms_events (
  seq bigint PRIMARY KEY CHECK (seq > 0),
  stream_id text NOT NULL,
  version bigint NOT NULL CHECK (version > 0),
  envelope bytea NOT NULL,
  UNIQUE (stream_id, version)
);
CREATE TABLE IF NOT EXISTS ms_streams (
  stream_id text PRIMARY KEY,
  version bigint NOT NULL CHECK (version > 0)
);
CREATE TABLE IF NOT EXISTS ms_kv (
  family text NOT NULL,
  key bytea NOT NULL,
  value bytea NOT NULL,
  PRIMARY KEY (family, key)
);
INSERT INTO ms_head (id, seq, hash) VALUES (1, 0, '\x0000000000000000000000000000000000000000000000000000000000000000')
  ON CONFLICT (id) DO NOTHING;
)sql";

}  // namespace

Status EnsureSchema(PgConn& conn) {
  MS_RETURN_IF_ERROR(conn.Exec("BEGIN"));
  Status s = [&]() -> Status {
    // One creator at a time: two nodes starting together must not race on CREATE TABLE.
    MS_RETURN_IF_ERROR(conn.Exec("SELECT pg_advisory_xact_lock(7265627)"));
    MS_RETURN_IF_ERROR(conn.Exec(kCreate));
    MS_RETURN_IF_ERROR(conn.Exec("INSERT INTO ms_schema (id, version) VALUES (1, $1) ON CONFLICT (id) DO NOTHING",
                                 {PgParam::Text(std::to_string(kSchemaVersion))}));
    MS_ASSIGN_OR_RETURN(PgRows v, conn.Query("SELECT version FROM ms_schema WHERE id = 1"));
    if (v.rows.size() != 1 || !v.rows[0][0] || *v.rows[0][0] != std::to_string(kSchemaVersion)) {
      return Status::FailedPrecondition("this database holds marketsync schema version " +
                                        (v.rows.empty() ? std::string("?") : v.rows[0][0].value_or("?")) +
                                        "; this build reads version " + std::to_string(kSchemaVersion));
    }
    return conn.Exec("COMMIT");
  }();
  if (!s.ok()) (void)conn.Exec("ROLLBACK");
  return s;
}

Result<PgHead> ReadHead(PgConn& conn) {
  MS_ASSIGN_OR_RETURN(PgRows r, conn.Query("SELECT seq, hash FROM ms_head WHERE id = 1"));
  if (r.rows.size() != 1 || !r.rows[0][0] || !r.rows[0][1] || r.rows[0][1]->size() != 32) {
    return Status::Corruption("PostgreSQL: the log's head row is missing or malformed");
  }
  PgHead head;
  head.seq = std::stoull(*r.rows[0][0]);
  head.hash = std::move(*r.rows[0][1]);
  return head;
}

}  // namespace marketsync::pglog
