#include "tools/marketsync/cli.h"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "projections/all.h"
#include "pglog/store.h"

namespace marketsync::cli {

Expected<std::unique_ptr<EventLog>> OpenForRead(const std::string& db) {
  const bool postgres = pglog::IsPostgresStore(db);
  if (!postgres && !std::filesystem::exists(db)) return Exit{kExitDatabase, "no database at " + db};
  auto log = pglog::OpenStore(db, SyncLogOptions(EventLogOptions::Mode::kSecondary));
  if (!log.ok()) return Exit{kExitDatabase, pglog::DescribeStore(db) + ": " + log.status().ToString()};
  return std::move(log).value();
}

Expected<std::unique_ptr<EventLog>> OpenForWrite(const std::string& db, bool create) {
  const bool postgres = pglog::IsPostgresStore(db);
  if (!postgres && !create && !std::filesystem::exists(db)) return Exit{kExitDatabase, "no database at " + db};
  auto log = pglog::OpenStore(db, SyncLogOptions(EventLogOptions::Mode::kReadWrite));
  if (!log.ok()) {
    const bool locked = !postgres && log.status().message().find("lock") != std::string::npos;
    return Exit{kExitDatabase, pglog::DescribeStore(db) + ": " + log.status().ToString() +
                                   (locked ? " (is marketsyncd running on it? stop it first)" : "")};
  }
  return std::move(log).value();
}

Progress::Progress(std::string label, uint64_t total)
    : label_(std::move(label)), total_(total), tty_(::isatty(2) != 0) {}

void Progress::operator()(uint64_t done) {
  if (!tty_ || total_ == 0) return;
  const int width = 40;
  const int filled = static_cast<int>(width * std::min<uint64_t>(done, total_) / total_);
  std::fprintf(stderr, "\r%s [%s%s] %llu/%llu", label_.c_str(), std::string(filled, '#').c_str(),
               std::string(width - filled, ' ').c_str(), static_cast<unsigned long long>(done),
               static_cast<unsigned long long>(total_));
  if (done >= total_) std::fprintf(stderr, "\n");
}

std::string Pad(std::string s, size_t n) {
  if (s.size() > n) return s.substr(0, n - 1) + "~";
  s.resize(n, ' ');
  return s;
}

}  // namespace marketsync::cli
