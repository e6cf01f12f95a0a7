#pragma once

// A replicated PostgreSQL 15 on loopback for the failover tests (issue 17): tools/pg-cluster
// starts a single-member etcd and Patroni members (a primary and synchronous standbys, strict
// mode), and this class drives it: the connection string that follows the primary, kill -9 of
// the primary's postmaster, waiting until a leader and a synchronous standby are back.
// Stopped and deleted by the destructor.

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"

namespace marketsync::testing {

// A failover campaign's knob from the environment (MARKETSYNC_FAILOVER_CYCLES,
// MARKETSYNC_FAILOVER_SEED: `make failover` sets them), or `fallback` when unset or empty.
uint64_t CampaignSetting(const char* name, uint64_t fallback);

class PgCluster {
 public:
  // Why a cluster cannot be started here (PostgreSQL, Patroni or etcd missing), or nullopt.
  static std::optional<std::string> Unavailable();
  // Starts `members` members and waits until one leads with a synchronous standby.
  // Errors: kUnavailable with the tool's output.
  static Result<std::unique_ptr<PgCluster>> Start(int members = 2);
  ~PgCluster();
  PgCluster(const PgCluster&) = delete;
  PgCluster& operator=(const PgCluster&) = delete;

  // Every member's address with target_session_attrs=read-write: libpq finds the primary.
  const std::string& conninfo() const { return conninfo_; }
  // kill -9 of the leader's postmaster, returning once another member leads (or the killed
  // member's restarted PostgreSQL, when no standby was in sync to promote); the pid killed.
  Result<pid_t> KillPrimary();
  // Until a leader runs with a synchronous standby (the old primary rejoined).
  Status WaitHealthy(std::chrono::seconds timeout);
  // Patroni's view of the cluster, as JSON (for failure messages).
  std::string Describe() const;

 private:
  PgCluster() = default;
  std::string dir_;
  std::string conninfo_;
};

}  // namespace marketsync::testing
