#include "tests/testutil/pg_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "tests/testutil/child_process.h"

namespace marketsync::testing {
namespace {

constexpr const char* kBin = "/usr/lib/postgresql/15/bin/";

// Who the server runs as: as root, the postgres user; else whoever runs the tests.
struct Identity {
  uid_t uid = 0;
  gid_t gid = 0;
  bool switch_user = false;
  std::string name;
};

std::optional<Identity> ServerIdentity() {
  if (::geteuid() != 0) {
    const passwd* pw = ::getpwuid(::geteuid());
    return Identity{::geteuid(), ::getegid(), false, pw != nullptr ? pw->pw_name : "postgres"};
  }
  const passwd* pw = ::getpwnam("postgres");
  if (pw == nullptr) return std::nullopt;
  return Identity{pw->pw_uid, pw->pw_gid, true, "postgres"};
}

// A port free on 127.0.0.1 a moment ago (the kernel's pick for port 0).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0) {
    port = ntohs(addr.sin_port);
  }
  ::close(fd);
  return port;
}

// Starts argv[0] as `who`, its stdout and stderr appended to `log`.
pid_t Spawn(const std::vector<std::string>& argv, const Identity& who, const std::string& log) {
  const pid_t pid = ::fork();
  if (pid != 0) return pid;
  const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd >= 0) {
    ::dup2(fd, STDOUT_FILENO);
    ::dup2(fd, STDERR_FILENO);
    ::close(fd);
  }
  if (who.switch_user && (::setgroups(0, nullptr) != 0 || ::setgid(who.gid) != 0 || ::setuid(who.uid) != 0)) {
    ::_exit(126);
  }
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  ::execv(args[0], args.data());
  ::_exit(127);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Waits up to `timeout` for `pid` to end; true when it did (reaped).
bool WaitFor(pid_t pid, std::chrono::milliseconds timeout, int* status) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid, status, WNOHANG) == pid) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

}  // namespace

std::optional<std::string> PgServer::Unavailable() {
  for (const char* tool : {"initdb", "postgres", "pg_isready"}) {
    if (::access((std::string(kBin) + tool).c_str(), X_OK) != 0) {
      return std::string("PostgreSQL 15 is not installed (no ") + kBin + tool + "; tools/install-deps installs it)";
    }
  }
  if (!ServerIdentity()) return "running as root and there is no postgres user to run PostgreSQL as";
  return std::nullopt;
}

Result<std::unique_ptr<PgServer>> PgServer::Start() {
  if (auto why = Unavailable()) return Status::Unavailable(*why);
  const Identity who = *ServerIdentity();
  std::string base = (std::filesystem::temp_directory_path() / "marketsync-pg-XXXXXX").string();
  if (::mkdtemp(base.data()) == nullptr) return Status::Unavailable("mkdtemp failed");
  std::unique_ptr<PgServer> server(new PgServer());
  server->dir_ = base;
  server->user_ = who.name;
  if (who.switch_user && ::chown(base.c_str(), who.uid, who.gid) != 0) {
    return Status::Unavailable("cannot hand " + base + " to the postgres user");
  }
  const std::string data = base + "/data", log = base + "/server.log";
  // initdb's files need not reach the disk: a test never survives the machine.
  const pid_t initdb = Spawn({std::string(kBin) + "initdb", "-D", data, "-U", who.name, "--auth=trust", "-E", "UTF8",
                              "--locale=C", "--no-sync"},
                             who, log);
  int status = 0;
  if (!WaitFor(initdb, std::chrono::seconds(120), &status) || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    return Status::Unavailable("initdb failed: " + ReadFile(log));
  }
  for (int attempt = 0; attempt < 5; ++attempt) {  // a port taken meanwhile: another one
    server->port_ = FreePort();
    if (server->Launch().ok()) return server;
  }
  return Status::Unavailable("the postmaster did not start: " + ReadFile(log));
}

// Starts the postmaster on the data directory and port_, waiting until it accepts connections.
Status PgServer::Launch() {
  const Identity who = *ServerIdentity();
  const std::string data = dir_ + "/data", log = dir_ + "/server.log";
  pid_ = Spawn({std::string(kBin) + "postgres", "-D", data, "-p", std::to_string(port_), "-k", dir_, "-c",
                "listen_addresses=127.0.0.1", "-c", "fsync=on", "-c", "synchronous_commit=on", "-c",
                "shared_buffers=32MB", "-c", "max_connections=100"},
               who, log);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (::waitpid(pid_, &status, WNOHANG) == pid_) break;  // it gave up
    const ProgramOutput ready =
        RunProgram(std::string(kBin) + "pg_isready", {"-q", "-h", "127.0.0.1", "-p", std::to_string(port_)});
    if (ready.exit_code == 0) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  Kill();
  return Status::Unavailable("the postmaster did not start: " + ReadFile(log));
}

Status PgServer::Restart() {
  Kill();
  // After a kill -9 the old backends may hold the shared memory a little longer: retry.
  Status s;
  for (int attempt = 0; attempt < 20; ++attempt) {
    s = Launch();
    if (s.ok()) return s;
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return s;
}

PgServer::~PgServer() {
  if (pid_ > 0) {
    ::kill(pid_, SIGINT);  // fast shutdown: rolls back open transactions, checkpoints
    int status = 0;
    if (!WaitFor(pid_, std::chrono::seconds(30), &status)) Kill();
    pid_ = -1;
  }
  std::error_code ignored;
  if (!dir_.empty()) std::filesystem::remove_all(dir_, ignored);
}

std::string PgServer::conninfo() const {
  return "host=127.0.0.1 port=" + std::to_string(port_) + " user=" + user_ + " dbname=postgres";
}

void PgServer::Kill() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  ::waitpid(pid_, &status, 0);
  pid_ = -1;
}

}  // namespace marketsync::testing
