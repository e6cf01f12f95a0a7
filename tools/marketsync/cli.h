#pragma once

// What the marketsync CLI's commands share: exit codes, Exit and Expected (the CLI's Result, no
// exceptions), opening the database a `--db` names (a RocksDB directory or a PostgreSQL
// connection string), a progress bar and column padding. main.cc has the read commands and the
// command line; maintenance.cc has rebuild, verify, export and import.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "base/status.h"
#include "events/event_log.h"

namespace marketsync::cli {

// Exit codes (stable, for scripts).
constexpr int kExitOk = 0;
constexpr int kExitDamaged = 1;   // verification found damage (verify, import)
constexpr int kExitUsage = 2;     // bad usage or input
constexpr int kExitDatabase = 3;  // the database cannot be opened or read
constexpr int kExitNotFound = 4;  // runs show with an unknown id

// How a command ends: an exit code, and what to print on stderr when it is not 0.
struct Exit {
  int code = kExitOk;
  std::string message;
};

// A value, or the Exit that explains why there is none.
template <typename T>
class [[nodiscard]] Expected {
 public:
  Expected(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)
  Expected(Exit exit) : exit_(std::move(exit)) {}  // NOLINT(google-explicit-constructor)
  bool ok() const { return value_.has_value(); }
  const Exit& exit() const { return exit_; }
  T& operator*() { return *value_; }
  T* operator->() { return &*value_; }

 private:
  std::optional<T> value_;
  Exit exit_;
};

// `TRY(auto x, F());` binds x to F()'s value or returns its Exit.
#define TRY(lhs, expr) TRY_IMPL(MS_CONCAT(try_, __LINE__), lhs, expr)
#define TRY_IMPL(tmp, lhs, expr)      \
  auto tmp = (expr);                  \
  if (!tmp.ok()) return tmp.exit();   \
  lhs = std::move(*tmp)

template <typename T>
Expected<T> Check(Result<T> r, int code = kExitDatabase) {
  if (!r.ok()) return Exit{code, r.status().ToString()};
  return std::move(r).value();
}

// Opens `db` for reading beside a running server: a RocksDB secondary instance beside its
// primary, or a read-only PostgreSQL log (it sees every node's appends).
Expected<std::unique_ptr<EventLog>> OpenForRead(const std::string& db);

// Opens `db` for writing: RocksDB needs the directory to itself (marketsyncd stopped); on
// PostgreSQL the write queues on the head row beside running nodes. Without `create`, a
// missing RocksDB directory is an error.
Expected<std::unique_ptr<EventLog>> OpenForWrite(const std::string& db, bool create);

// A progress bar on stderr when it is a terminal; nothing otherwise.
class Progress {
 public:
  Progress(std::string label, uint64_t total);
  void operator()(uint64_t done);

 private:
  std::string label_;
  uint64_t total_;
  bool tty_;
};

// `s` cut or padded with spaces to `n` columns.
std::string Pad(std::string s, size_t n);

}  // namespace marketsync::cli
