#include "pglog/pg_conn.h"

#include <libpq-fe.h>

namespace marketsync::pglog {
namespace {

struct ResultDeleter {
  void operator()(PGresult* r) const { PQclear(r); }
};
using PgResult = std::unique_ptr<PGresult, ResultDeleter>;

// libpq's message without its trailing newline.
std::string Trimmed(const char* text) {
  std::string s = text != nullptr ? text : "";
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// A bytea column's text form ("\x0a1b…", the server's default output) as its bytes.
std::optional<std::string> FromHex(std::string_view text) {
  if (!text.starts_with("\\x") || text.size() % 2 != 0) return std::nullopt;
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  std::string out;
  out.reserve((text.size() - 2) / 2);
  for (size_t i = 2; i < text.size(); i += 2) {
    const int hi = nibble(text[i]), lo = nibble(text[i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi << 4 | lo));
  }
  return out;
}

constexpr unsigned kByteaOid = 17;

}  // namespace

Status StatusForSqlState(std::string_view sqlstate, std::string message) {
  std::string text = std::move(message) + " (SQLSTATE " + std::string(sqlstate) + ")";
  if (sqlstate.starts_with("23")) return Status::FailedPrecondition(std::move(text));
  if (sqlstate.starts_with("08") || sqlstate.starts_with("57P") || sqlstate == "25006" || sqlstate == "40001" ||
      sqlstate == "40P01") {
    return Status::Unavailable(std::move(text));
  }
  if (sqlstate.starts_with("42") || sqlstate.starts_with("22")) return Status::InvalidArgument(std::move(text));
  return Status::IOError(std::move(text));
}

Result<std::unique_ptr<PgConn>> PgConn::Connect(const std::string& conninfo) {
  // TCP keepalives and a user timeout, unless the connection string sets its own (it comes
  // after them, and libpq keeps the last value of a keyword): a primary that vanished without
  // a reset (its machine lost, a partition) is noticed on an idle connection within ~20 s, and
  // by a statement whose bytes go unacknowledged within 30 s, not after the kernel's two hours
  // or ~15 minutes of retransmissions. A commit the server is still working on (waiting for a
  // synchronous standby) is acknowledged at the TCP level: neither cuts it short. Ignored over
  // a Unix socket.
  static constexpr const char* kKeywords[] = {"keepalives",       "keepalives_idle", "keepalives_interval",
                                              "keepalives_count", "tcp_user_timeout", "dbname",
                                              nullptr};
  const char* values[] = {"1", "10", "3", "3", "30000", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(kKeywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("PostgreSQL: out of memory for a connection");
  if (PQstatus(conn) != CONNECTION_OK) {
    // libpq's reason names the host and port, never the password.
    Status s = Status::Unavailable("PostgreSQL: cannot connect: " + Trimmed(PQerrorMessage(conn)));
    PQfinish(conn);
    return s;
  }
  // The server's NOTICEs ("relation … already exists, skipping") are not errors: libpq would
  // print them on stderr.
  PQsetNoticeProcessor(conn, [](void*, const char*) {}, nullptr);
  return std::unique_ptr<PgConn>(new PgConn(conn));
}

PgConn::~PgConn() { PQfinish(conn_); }

bool PgConn::ok() const { return PQstatus(conn_) == CONNECTION_OK; }

namespace {

// The rows (or the error) of one statement's result.
Result<PgRows> ToRows(PGconn* conn, PGresult* r) {
  if (r == nullptr) return Status::Unavailable("PostgreSQL: " + Trimmed(PQerrorMessage(conn)));
  const ExecStatusType st = PQresultStatus(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    if (st == PGRES_PIPELINE_ABORTED) return Status::IOError("PostgreSQL: skipped after an earlier statement failed");
    const char* state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
    // No SQLSTATE: libpq's own failure, the connection lost mid-statement.
    if (state == nullptr) return Status::Unavailable("PostgreSQL: " + Trimmed(PQerrorMessage(conn)));
    return StatusForSqlState(state, "PostgreSQL: " + Trimmed(PQresultErrorMessage(r)));
  }
  PgRows out;
  const int columns = PQnfields(r);
  for (int c = 0; c < columns; ++c) out.columns.emplace_back(PQfname(r, c));
  const int rows = PQntuples(r);
  out.rows.reserve(static_cast<size_t>(rows));
  for (int i = 0; i < rows; ++i) {
    auto& row = out.rows.emplace_back();
    row.reserve(static_cast<size_t>(columns));
    for (int c = 0; c < columns; ++c) {
      if (PQgetisnull(r, i, c)) {
        row.emplace_back();
        continue;
      }
      std::string_view text(PQgetvalue(r, i, c), static_cast<size_t>(PQgetlength(r, i, c)));
      if (PQftype(r, c) == kByteaOid) {
        std::optional<std::string> bytes = FromHex(text);
        if (!bytes) return Status::Corruption("PostgreSQL: a bytea column came back as " + std::string(text.substr(0, 16)));
        row.push_back(std::move(bytes));
      } else {
        row.emplace_back(std::string(text));
      }
    }
  }
  out.command = PQcmdStatus(r);
  const char* affected = PQcmdTuples(r);
  if (affected != nullptr && *affected != '\0') out.affected = std::stoull(affected);
  return out;
}

// Parameters as libpq takes them: values (NULL for SQL NULL), lengths, formats (1: binary).
struct ParamArrays {
  explicit ParamArrays(const std::vector<PgParam>& params) {
    for (const PgParam& p : params) {
      values.push_back(p.value ? p.value->data() : nullptr);
      lengths.push_back(p.value ? static_cast<int>(p.value->size()) : 0);
      formats.push_back(p.binary ? 1 : 0);
    }
  }
  int size() const { return static_cast<int>(values.size()); }
  std::vector<const char*> values;
  std::vector<int> lengths, formats;
};

// Sends one statement with its parameters (extended protocol), as pipeline mode requires.
bool Send(PGconn* conn, const std::string& sql, const std::vector<PgParam>& params) {
  const ParamArrays p(params);
  return PQsendQueryParams(conn, sql.c_str(), p.size(), nullptr, p.values.data(), p.lengths.data(), p.formats.data(),
                           0) == 1;
}

}  // namespace

Result<PgRows> PgConn::Query(std::string_view sql, const std::vector<PgParam>& params) {
  std::lock_guard lk(mu_);  // to the end: libpq's error message is the connection's
  const ParamArrays p(params);
  const std::string statement(sql);
  // Without parameters, the simple protocol: it takes several statements at once (a schema).
  PgResult r(params.empty() ? PQexec(conn_, statement.c_str())
                            : PQexecParams(conn_, statement.c_str(), p.size(), nullptr, p.values.data(),
                                           p.lengths.data(), p.formats.data(), 0));
  return ToRows(conn_, r.get());
}

std::vector<Result<PgRows>> PgConn::Pipeline(const std::vector<PgStatement>& statements) {
  std::lock_guard lk(mu_);
  std::vector<Result<PgRows>> out;
  auto lost = [&] {
    Status s = Status::Unavailable("PostgreSQL: " + Trimmed(PQerrorMessage(conn_)));
    while (out.size() < statements.size()) out.push_back(s);
    // A connection that is still up must not stay in pipeline mode (the next Query would be
    // refused); libpq only leaves it once nothing is pending, so a broken one stays as it is.
    if (PQpipelineStatus(conn_) != PQ_PIPELINE_OFF) (void)PQexitPipelineMode(conn_);
    return out;
  };
  if (PQenterPipelineMode(conn_) != 1) return lost();
  for (const PgStatement& st : statements) {
    if (!Send(conn_, st.sql, st.params)) return lost();
  }
  if (PQpipelineSync(conn_) != 1) return lost();
  // Each statement's result, then the NULL that ends it; then the sync's own result.
  for (size_t i = 0; i < statements.size(); ++i) {
    PgResult r(PQgetResult(conn_));
    if (r == nullptr) return lost();
    out.push_back(ToRows(conn_, r.get()));
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
  }
  for (;;) {  // the sync
    PgResult r(PQgetResult(conn_));
    if (r == nullptr) break;
    if (PQresultStatus(r.get()) == PGRES_PIPELINE_SYNC) break;
  }
  (void)PQexitPipelineMode(conn_);
  return out;
}

int PgConn::socket() const { return PQsocket(conn_); }

std::optional<std::string> PgConn::Setting(std::string_view keyword) const {
  PQconninfoOption* options = PQconninfo(conn_);
  if (options == nullptr) return std::nullopt;
  std::optional<std::string> out;
  for (PQconninfoOption* o = options; o->keyword != nullptr; ++o) {
    if (keyword == o->keyword && o->val != nullptr) out = o->val;
  }
  PQconninfoFree(options);
  return out;
}

Result<std::vector<std::string>> PgConn::TakeNotifications() {
  std::lock_guard lk(mu_);
  if (PQconsumeInput(conn_) != 1) return Status::Unavailable("PostgreSQL: " + Trimmed(PQerrorMessage(conn_)));
  std::vector<std::string> payloads;
  while (PGnotify* n = PQnotifies(conn_)) {
    payloads.emplace_back(n->extra != nullptr ? n->extra : "");
    PQfreemem(n);
  }
  return payloads;
}

Status PgConn::Exec(std::string_view sql, const std::vector<PgParam>& params) {
  return Query(sql, params).status();
}

}  // namespace marketsync::pglog
