#include "tests/testutil/pg_cluster.h"

#include <stdlib.h>
#include <unistd.h>

#include <filesystem>
#include <string>

#include "tests/testutil/child_process.h"
#include "tests/testutil/pg_server.h"

namespace marketsync::testing {
namespace {

ProgramOutput Tool(const std::vector<std::string>& args) { return RunProgram(MARKETSYNC_PG_CLUSTER, args); }

}  // namespace

uint64_t CampaignSetting(const char* name, uint64_t fallback) {
  const char* v = ::getenv(name);
  return v != nullptr && *v != '\0' ? std::stoull(v) : fallback;
}

std::optional<std::string> PgCluster::Unavailable() {
  if (auto why = PgServer::Unavailable()) return why;
  for (const char* tool : {"/usr/bin/patroni", "/usr/bin/etcd"}) {
    if (::access(tool, X_OK) != 0) return std::string(tool) + " is not installed (tools/install-deps installs it)";
  }
  return std::nullopt;
}

Result<std::unique_ptr<PgCluster>> PgCluster::Start(int members) {
  if (auto why = Unavailable()) return Status::Unavailable(*why);
  std::string dir = (std::filesystem::temp_directory_path() / "marketsync-cluster-XXXXXX").string();
  if (::mkdtemp(dir.data()) == nullptr) return Status::Unavailable("mkdtemp failed");
  std::unique_ptr<PgCluster> cluster(new PgCluster());
  cluster->dir_ = dir;
  const ProgramOutput out = Tool({"start", dir, "--members", std::to_string(members)});
  if (out.exit_code != 0 || out.lines.empty()) {
    return Status::Unavailable("tools/pg-cluster start failed: " + out.text());
  }
  cluster->conninfo_ = out.lines.back();
  return cluster;
}

PgCluster::~PgCluster() {
  if (dir_.empty()) return;
  (void)Tool({"stop", dir_});
  std::error_code ignored;
  std::filesystem::remove_all(dir_, ignored);
}

Result<pid_t> PgCluster::KillPrimary() {
  const ProgramOutput out = Tool({"kill-primary", dir_});
  if (out.exit_code != 0 || out.lines.empty()) return Status::Unavailable("kill-primary failed: " + out.text());
  return static_cast<pid_t>(std::stol(out.lines.back()));
}

Status PgCluster::WaitHealthy(std::chrono::seconds timeout) {
  const ProgramOutput out = Tool({"wait", dir_, "--timeout", std::to_string(timeout.count())});
  if (out.exit_code != 0) return Status::Unavailable("the cluster did not recover: " + out.text() + Describe());
  return Status::Ok();
}

std::string PgCluster::Describe() const { return Tool({"status", dir_}).text(); }

}  // namespace marketsync::testing
