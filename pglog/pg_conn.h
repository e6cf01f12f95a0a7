#pragma once

// PgConn: one libpq connection, for the log on PostgreSQL (issue 17; docs/postgres-plan.md).
// Statements with binary-safe text parameters, results as rows of optional strings, and
// PostgreSQL's errors mapped onto Status by their SQLSTATE. No libpq in this header.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

struct pg_conn;

namespace marketsync::pglog {

// A statement's answer: rows of columns, NULL as nullopt (bytea comes back as its bytes).
struct PgRows {
  std::vector<std::string> columns;
  std::vector<std::vector<std::optional<std::string>>> rows;
  uint64_t affected = 0;  // rows an INSERT, UPDATE or DELETE touched
  std::string command;    // the command tag: "INSERT 0 1", "COMMIT", or "ROLLBACK" for a COMMIT
                          // of a transaction an error had aborted
};

// A parameter: text, or raw bytes for a bytea column; nullopt is NULL.
struct PgParam {
  std::optional<std::string> value;
  bool binary = false;
  static PgParam Text(std::string v) { return {std::move(v), false}; }
  static PgParam Bytes(std::string v) { return {std::move(v), true}; }
  static PgParam Null() { return {std::nullopt, false}; }
};

// One statement of a pipeline.
struct PgStatement {
  std::string sql;
  std::vector<PgParam> params;
};

// Thread safety: statements from several threads are serialised (libpq allows one at a time on
// a connection); a transaction belongs to the connection, whichever thread runs its statements.
class PgConn {
 public:
  // Connects with a libpq connection string ("host=… port=… dbname=…" or postgres://…), with
  // TCP keepalives (idle 10 s, every 3 s, 3 probes) and tcp_user_timeout 30 s unless the string
  // sets them.
  // Errors: kUnavailable with libpq's reason (passwords in `conninfo` are not repeated).
  static Result<std::unique_ptr<PgConn>> Connect(const std::string& conninfo);
  ~PgConn();
  PgConn(const PgConn&) = delete;
  PgConn& operator=(const PgConn&) = delete;

  // Runs one statement with $1, $2… parameters (or, without parameters, several separated by
  // semicolons: the last one's rows come back); columns come back as text, bytea as bytes.
  // Errors (the message names the SQLSTATE):
  //   kFailedPrecondition  a constraint held (23xxx: unique, foreign key, check, not null)
  //   kUnavailable         the connection is gone, the server is a standby or shutting down
  //                        (08xxx, 25006, 57Pxx), or a retry would do (40001, 40P01)
  //   kInvalidArgument     the statement is wrong (42xxx, 22xxx)
  //   kIOError             anything else
  Result<PgRows> Query(std::string_view sql, const std::vector<PgParam>& params = {});
  // Sends every statement before reading any answer (libpq's pipeline mode): one round trip for
  // all of them. One result each, in order; after a failed one the server skips the rest up to
  // the end of the pipeline (their results say so), and a transaction it was in is aborted.
  // A lost connection fails every statement not answered with kUnavailable.
  std::vector<Result<PgRows>> Pipeline(const std::vector<PgStatement>& statements);
  // Query for statements that answer no rows.
  Status Exec(std::string_view sql, const std::vector<PgParam>& params = {});
  // False once the server or the network dropped the connection.
  bool ok() const;

  // For a connection that LISTENs (and runs nothing else meanwhile): the socket to poll for
  // readability, and the payloads of the notifications that have arrived, in order (none when
  // nothing has). kUnavailable once the connection is lost.
  int socket() const;
  Result<std::vector<std::string>> TakeNotifications();
  // The value a connection option has on this connection ("keepalives_idle"…), as libpq uses
  // it; nullopt when unset. Passwords are options too: never log what this returns.
  std::optional<std::string> Setting(std::string_view keyword) const;

 private:
  explicit PgConn(pg_conn* conn) : conn_(conn) {}
  pg_conn* conn_;
  std::mutex mu_;  // one statement at a time
};

// The Status for an SQLSTATE and a message (see PgConn::Query).
Status StatusForSqlState(std::string_view sqlstate, std::string message);

}  // namespace marketsync::pglog
