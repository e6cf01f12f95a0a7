#pragma once

// A throwaway PostgreSQL 15 server for tests (issue 17): initdb into a fresh directory, the
// postmaster on 127.0.0.1 and a free port (its socket directory inside the data directory),
// stopped and deleted by the destructor. As root it runs as the `postgres` user (initdb refuses
// root); as anyone else, as that user. Durable as a real one: fsync and synchronous_commit on.

#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace marketsync::testing {

class PgServer {
 public:
  // Why a server cannot be started here (the binaries or the postgres user are missing), or
  // nullopt when it can. Tests skip with this message.
  static std::optional<std::string> Unavailable();

  // initdb and start, waiting until it accepts connections.
  // Errors: kUnavailable (initdb or the postmaster failed; the message has their output).
  static Result<std::unique_ptr<PgServer>> Start();

  // A fast shutdown (SIGINT), then the directory is removed.
  ~PgServer();
  PgServer(const PgServer&) = delete;
  PgServer& operator=(const PgServer&) = delete;

  // "host=127.0.0.1 port=N user=postgres dbname=postgres": a libpq connection string.
  std::string conninfo() const;
  int port() const { return port_; }
  pid_t pid() const { return pid_; }  // the postmaster, for kill -9 campaigns
  const std::string& data_dir() const { return dir_; }

  // Kills the postmaster with SIGKILL and reaps it (its children exit once it is gone).
  void Kill();
  // Starts it again on the same directory and port (after Kill: crash recovery first).
  // Errors: kUnavailable with the server's log.
  Status Restart();

 private:
  PgServer() = default;
  Status Launch();

  std::string dir_;
  std::string user_;
  int port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace marketsync::testing
