// marketsync: the operator's and auditor's command line over a marketsync database.
//
// Exit codes (stable, for scripts):
//   0  success
//   1  verification found damage (verify, import)
//   2  bad usage or input (unknown option, bad value, unreadable file)
//   3  the database cannot be opened or read
//   4  not found (runs show with an unknown id)

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/clock.h"
#include "events/event_log.h"
#include "schema/event_type.h"
#include "schema/stream_ids.h"
#include "projections/all.h"
#include "projections/history.h"
#include "projections/json_views.h"
#include "base/base64.h"
#include "tools/marketsync/export_line.h"

namespace ms = marketsync;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDatabase = 3;
constexpr int kExitNotFound = 4;

using ms::NowUs;

// How a command ends: an exit code, and what to print on stderr when it is not 0.
struct Exit {
  int code = kExitOk;
  std::string message;
};

// A value, or the Exit that explains why there is none (the CLI's Result: no exceptions).
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
Expected<T> Check(ms::Result<T> r, int code = kExitDatabase) {
  if (!r.ok()) return Exit{code, r.status().ToString()};
  return std::move(r).value();
}

// Reads follow a running server: a RocksDB secondary instance beside its primary.
Expected<std::unique_ptr<ms::EventLog>> OpenForRead(const std::string& db) {
  if (!std::filesystem::exists(db)) return Exit{kExitDatabase, "no database at " + db};
  return Check(ms::EventLog::Open(db, ms::SyncLogOptions(ms::EventLogOptions::Mode::kSecondary)));
}

Expected<std::unique_ptr<ms::EventLog>> OpenForWrite(const std::string& db, bool create) {
  if (!create && !std::filesystem::exists(db)) return Exit{kExitDatabase, "no database at " + db};
  auto log = ms::EventLog::Open(db, ms::SyncLogOptions(ms::EventLogOptions::Mode::kReadWrite));
  if (!log.ok()) {
    return Exit{kExitDatabase, log.status().ToString() + (log.status().message().find("lock") != std::string::npos
                                                              ? " (is marketsyncd running on it? stop it first)"
                                                              : "")};
  }
  return std::move(log).value();
}

// A progress bar on stderr when it is a terminal; nothing otherwise.
class Progress {
 public:
  Progress(std::string label, uint64_t total) : label_(std::move(label)), total_(total), tty_(::isatty(2) != 0) {}
  void operator()(uint64_t done) {
    if (!tty_ || total_ == 0) return;
    const int width = 40;
    const int filled = static_cast<int>(width * std::min<uint64_t>(done, total_) / total_);
    std::fprintf(stderr, "\r%s [%s%s] %llu/%llu", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, ' ').c_str(), static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_));
    if (done >= total_) std::fprintf(stderr, "\n");
  }

 private:
  std::string label_;
  uint64_t total_;
  bool tty_;
};

std::string Pad(std::string s, size_t n) {
  if (s.size() > n) return s.substr(0, n - 1) + "~";
  s.resize(n, ' ');
  return s;
}

// --- events ---------------------------------------------------------------------------------

struct EventsArgs {
  uint64_t after = 0;
  std::string run;
  std::string type;
  bool follow = false;
  std::string format = "table";
  uint64_t limit = 0;  // 0: no limit
};

Exit PrintEventRow(const ms::Envelope& e, const std::string& format, bool& first) {
  if (format == "table") {
    std::cout << Pad(std::to_string(e.seq), 9) << Pad(ms::FormatTimeUs(e.recorded_at_us), 26)
              << Pad(ms::EventTypeName(e.type), 24) << e.stream_id << "\n";
    return {};
  }
  TRY(auto json, Check(ms::EventJson(e)));
  if (format == "json") {
    std::cout << (first ? "[\n" : ",\n") << ms::RenderJson(json);
  } else {
    std::cout << ms::RenderJson(json) << "\n";
  }
  first = false;
  return {};
}

// Prints the events from seq `from` on (of one run, with --run), as EventsArgs say.
class EventPrinter {
 public:
  EventPrinter(const ms::EventLog& log, const EventsArgs& a, std::optional<uint16_t> type)
      : log_(log), a_(a), type_(type) {}
  uint64_t next() const { return next_; }
  void Advance(uint64_t to) { next_ = std::max(next_, to); }
  bool done() const { return done_; }
  bool first() const { return first_; }

  // Prints what the log holds from next() on; done() once the limit is reached.
  Exit PrintMore() {
    if (!a_.run.empty()) {
      TRY(auto events, Check(log_.ReadStream(ms::RunStreamId(a_.run))));
      for (const auto& e : events) {
        if (e.seq < next_ || (type_ && e.type != *type_)) continue;
        next_ = e.seq + 1;
        if (Exit x = Print(e); x.code != kExitOk || done_) return x;
      }
      return {};
    }
    for (auto it = log_.Read(next_); it->Valid(); it->Next()) {
      const ms::Envelope& e = it->envelope();
      next_ = e.seq + 1;
      if (type_ && e.type != *type_) continue;
      if (Exit x = Print(e); x.code != kExitOk || done_) return x;
    }
    return {};
  }

 private:
  Exit Print(const ms::Envelope& e) {
    Exit x = PrintEventRow(e, a_.format, first_);
    done_ = ++printed_ == a_.limit;
    return x;
  }

  const ms::EventLog& log_;
  const EventsArgs& a_;
  const std::optional<uint16_t> type_;
  uint64_t next_ = a_.after + 1;
  uint64_t printed_ = 0;
  bool first_ = true;
  bool done_ = false;
};

Exit Events(const std::string& db, const EventsArgs& a) {
  if (a.follow && a.format == "json") return Exit{kExitUsage, "--follow writes ndjson or table, not a json array"};
  std::optional<uint16_t> type;
  if (!a.type.empty()) {
    const ms::EventTypeInfo* info = ms::FindEventTypeByName(a.type);
    if (info == nullptr) return Exit{kExitUsage, "unknown event type " + a.type};
    type = static_cast<uint16_t>(info->type);
  }
  TRY(auto log, OpenForRead(db));
  if (a.format == "table") std::cout << Pad("SEQ", 9) << Pad("RECORDED AT", 26) << Pad("TYPE", 24) << "STREAM\n";
  EventPrinter printer(*log, a, type);
  if (Exit x = printer.PrintMore(); x.code != kExitOk) return x;
  if (a.follow) {
    std::cout.flush();
    while (!printer.done()) {
      const uint64_t head = log->WaitForSeq(printer.next() - 1, std::chrono::seconds(1));
      if (head >= printer.next()) {
        // A run's stream gains events anywhere in the log: read it again from its next seq.
        if (Exit x = printer.PrintMore(); x.code != kExitOk) return x;
        printer.Advance(head + 1);
        std::cout.flush();
      }
    }
  }
  if (a.format == "json") std::cout << (printer.first() ? "[]\n" : "\n]\n");
  return {};
}

// --- history, runs, stats -------------------------------------------------------------------

Exit History(const std::string& db, const std::string& account, const std::string& status, size_t limit,
             const std::string& as_of, const std::string& format) {
  if (limit == 0 || limit > 1000) return Exit{kExitUsage, "--limit must be 1..1000"};
  std::optional<ms::FoldLimit> point;
  if (!as_of.empty()) {
    point = ms::ParseAsOf(as_of);
    if (!point) {
      return Exit{kExitUsage, "--as-of takes a seq (a number) or a UTC time like 2026-11-28T18:00:00Z, not " + as_of};
    }
  }
  TRY(auto log, OpenForRead(db));
  ms::HistoryQuery q;
  if (!account.empty()) q.account = account;
  if (!status.empty()) q.status = status;
  q.limit = limit;
  std::unique_ptr<ms::AsOfView> view;
  const ms::KvReader* reader = log.get();
  uint64_t seq = log->Head().seq;
  if (point) {
    TRY(view, Check(ms::FoldAsOf(*log, *point, {ms::HistoryProjection::kName})));
    reader = &view->store;
    seq = view->fold.last_seq;
  }
  TRY(auto page, Check(ms::ListHistory(*reader, q), kExitUsage));
  const int64_t now = view ? view->fold.last_recorded_at_us : NowUs();
  if (format == "json") {
    boost::json::array runs;
    for (const auto& r : page.runs) runs.push_back(ms::RunJson(r, now));
    boost::json::object o{{"as_of_seq", seq}, {"syncs", std::move(runs)}, {"next_cursor", page.next_cursor}};
    std::cout << ms::RenderJson(o) << "\n";
    return {};
  }
  std::cout << "as of seq " << seq << "\n";
  std::cout << Pad("RUN", 26) << Pad("ACCOUNT", 9) << Pad("STATUS", 21) << Pad("STARTED", 26) << Pad("SECONDS", 9)
            << Pad("CREATED", 9) << Pad("UPDATED", 9) << Pad("UNCHANGED", 11) << Pad("REMOVED", 9) << "FAILED\n";
  for (const auto& r : page.runs) {
    std::cout << Pad(r.id, 26) << Pad(r.account_type, 9) << Pad(r.status, 21)
              << Pad(ms::FormatTimeUs(r.started_at_us ? r.started_at_us : r.requested_at_us), 26)
              << Pad(fmt::format("{:.1f}", r.DurationSeconds(now)), 9) << Pad(std::to_string(r.created_items), 9)
              << Pad(std::to_string(r.updated_items), 9) << Pad(std::to_string(r.unchanged_items), 11)
              << Pad(std::to_string(r.removed_items), 9) << r.failed_items << "\n";
  }
  if (page.runs.empty()) std::cout << "no runs\n";
  return {};
}

Exit RunsShow(const std::string& db, const std::string& id, const std::string& format) {
  TRY(auto log, OpenForRead(db));
  TRY(auto run, Check(ms::GetHistoryRun(*log, id)));
  if (!run) return Exit{kExitNotFound, "no run " + id};
  boost::json::object o = ms::RunJson(*run, NowUs());
  if (format == "json") {
    std::cout << ms::RenderJson(o) << "\n";
    return {};
  }
  for (const auto& [key, value] : o) std::cout << Pad(std::string(key), 24) << ms::RenderJson(value) << "\n";
  return {};
}

Exit Stats(const std::string& db, const std::string& format) {
  TRY(auto log, OpenForRead(db));
  TRY(auto stats, Check(ms::GetStats(*log)));
  if (format == "json") {
    boost::json::array accounts;
    for (const auto& a : stats.accounts) accounts.push_back(ms::AccountStatsJson(a));
    boost::json::object o{{"accounts", std::move(accounts)},
                          {"total_products", stats.total_offers},
                          {"runs_finished", stats.total_runs_finished},
                          {"runs_completed", stats.total_runs_completed}};
    std::cout << ms::RenderJson(o) << "\n";
    return {};
  }
  std::cout << Pad("ACCOUNT", 10) << Pad("OFFERS", 10) << Pad("RUNS", 7) << Pad("SUCCESS", 9)
            << "LAST SUCCESSFUL RUN\n";
  for (const auto& a : stats.accounts) {
    std::cout << Pad(a.account, 10) << Pad(std::to_string(a.offers), 10) << Pad(std::to_string(a.runs_requested), 7)
              << Pad(fmt::format("{:.0f}%", 100 * a.SuccessRate()), 9)
              << (a.last_success_run_id.empty() ? "-" : a.last_success_run_id + " at " + ms::FormatTimeUs(a.last_success_at_us))
              << "\n";
  }
  std::cout << "total offers " << stats.total_offers << ", runs finished " << stats.total_runs_finished
            << ", completed " << stats.total_runs_completed << "\n";
  return {};
}

Exit Accounts(const std::string& db, const std::string& format) {
  TRY(auto log, OpenForRead(db));
  const auto unbuilt = log->unbuilt_projections();
  if (std::find(unbuilt.begin(), unbuilt.end(), ms::AccountsProjection::kName) != unbuilt.end()) {
    return Exit{kExitDatabase, "the accounts projection is not built yet (an older marketsync last wrote this database; "
                               "the next start of marketsyncd, or marketsync rebuild, builds it)"};
  }
  TRY(auto accounts, Check(ms::ListAccounts(*log)));
  if (format == "json") {
    boost::json::array out;
    for (const auto& a : accounts) out.push_back(ms::AccountJson(a));
    std::cout << ms::RenderJson(out) << "\n";
    return {};
  }
  std::cout << Pad("ACCOUNT", 14) << Pad("STATE", 10) << Pad("SOURCE", 13) << Pad("SCHEDULE", 10) << Pad("BASE URL", 44)
            << "LAST CHANGE\n";
  for (const auto& a : accounts) {
    const std::string state = a.removed ? "removed" : a.settings.enabled ? "enabled" : "disabled";
    const std::string schedule = a.settings.schedule_minutes > 0 ? fmt::format("{} min", a.settings.schedule_minutes) : "server";
    std::cout << Pad(a.name, 14) << Pad(state, 10) << Pad(a.settings.source, 13) << Pad(schedule, 10)
              << Pad(a.settings.base_url, 44) << ms::FormatTimeUs(a.changed_at_us) << " by " << a.changed_by << "\n";
  }
  return {};
}

// --- rebuild, verify ------------------------------------------------------------------------

Exit Rebuild(const std::string& db, const std::string& which) {
  auto names = ms::AllProjectionNames();
  if (which != "all") {
    if (std::find(names.begin(), names.end(), which) == names.end()) {
      return Exit{kExitUsage, "unknown projection " + which + " (history, status, catalog, stats, rollup or all)"};
    }
    names = {which};
  }
  TRY(auto log, OpenForWrite(db, false));
  const uint64_t head = log->Head().seq;
  Progress progress("rebuilding " + (which == "all" ? std::string("every projection") : which), head);
  const auto start = std::chrono::steady_clock::now();
  TRY(auto report, Check(log->RebuildProjections(names, [&](uint64_t seq) { progress(seq); })));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("rebuilt {}: {} events, {} rows in {:.2f} s ({:.0f} events/s), checkpoint {}\n",
                           fmt::join(names, ", "), report.events, report.rows, secs,
                           secs > 0 ? report.events / secs : 0.0, report.checkpoint);
  return {};
}

// Checks the chain and every projection; prints findings; exits 1 when something is wrong.
Exit VerifyLog(const ms::EventLog& log) {
  TRY(auto report, Check(log.Verify()));
  bool ok = true;
  if (report.ok) {
    std::cout << fmt::format("log: ok, {} events, head {}\n", report.events_checked, ms::HashToHex(log.Head().hash));
  } else {
    std::cout << fmt::format("log: DAMAGED at seq {}: {}\n", report.first_bad_seq, report.reason);
    ok = false;
  }
  auto checks = ms::VerifyProjections(log);
  if (!checks.ok()) {
    std::cout << "projections: cannot be rebuilt: " << checks.status().ToString() << "\n";
    return Exit{kExitDamaged, ""};
  }
  for (const auto& c : *checks) {
    if (c.ok()) {
      std::cout << fmt::format("projection {}: ok, digest {}\n", c.name, c.live_digest);
    } else {
      ok = false;
      std::cout << fmt::format("projection {}: DIFFERS from a rebuild: live {}, rebuilt {}", c.name, c.live_digest,
                               c.rebuilt_digest);
      if (c.first_difference) {
        std::cout << fmt::format("; first difference in {} at key \"{}\" ({})", c.first_difference->family,
                                 ms::PrintableKey(c.first_difference->key), c.first_difference->what);
      }
      std::cout << "\n";
    }
  }
  for (const std::string& name : log.unbuilt_projections()) {
    std::cout << fmt::format("projection {}: not built yet (an older marketsync last wrote this database; the next "
                             "start of marketsyncd, or marketsync rebuild, builds it)\n",
                             name);
  }
  return ok ? Exit{} : Exit{kExitDamaged, ""};
}

Exit Verify(const std::string& db) {
  TRY(auto log, OpenForRead(db));
  return VerifyLog(*log);
}

// --- export, import -------------------------------------------------------------------------

Exit Export(const std::string& db, const std::string& to) {
  TRY(auto log, OpenForRead(db));
  const std::string tmp = to + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) return Exit{kExitUsage, "cannot write " + tmp};
  const uint64_t head = log->Head().seq;
  Progress progress("exporting", head);
  uint64_t n = 0;
  for (auto it = log->Read(1); it->Valid() && it->envelope().seq <= head; it->Next()) {
    TRY(boost::json::object o, Check(ms::EventJson(it->envelope())));
    o["raw"] = ms::Base64Encode(it->raw());
    out << ms::RenderJson(o) << "\n";
    if ((++n & 0xFFF) == 0) progress(n);
  }
  progress(n);
  out.close();
  if (!out) return Exit{kExitUsage, "writing " + tmp + " failed"};
  std::filesystem::rename(tmp, to);
  std::cout << fmt::format("exported {} events to {} (head {})\n", n, to, ms::HashToHex(log->Head().hash));
  return {};
}

Exit Import(const std::string& db, const std::string& from) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return Exit{kExitUsage, "cannot read " + from};
  if (std::filesystem::exists(db) && !std::filesystem::is_empty(db)) {
    return Exit{kExitUsage, db + " is not empty: import writes into a fresh database"};
  }
  TRY(auto log, OpenForWrite(db, true));
  std::vector<std::string> chunk;
  std::string line;
  uint64_t line_no = 0, n = 0;
  auto flush = [&]() -> Exit {
    if (chunk.empty()) return {};
    auto r = log->Import(chunk);
    if (!r.ok()) return Exit{kExitDamaged, r.status().message()};
    n += chunk.size();
    chunk.clear();
    return {};
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    auto bytes = ms::StoredBytesOfExportLine(line);
    if (!bytes.ok()) return Exit{kExitUsage, fmt::format("{} line {}: {}", from, line_no, bytes.status().message())};
    chunk.push_back(std::move(*bytes));
    if (chunk.size() == 10000) {
      if (Exit x = flush(); x.code != kExitOk) return x;
    }
  }
  if (Exit x = flush(); x.code != kExitOk) return x;
  std::cout << fmt::format("imported {} events into {}\n", n, db);
  return VerifyLog(*log);
}

// The command line: every subcommand and its options, and what was given.
struct CommandLine {
  std::string db = "./data";
  std::string projection = "all";
  EventsArgs events_args;
  std::string account, status, as_of, format = "table", run_id, file;
  size_t limit = 50;
  CLI::App* rebuild = nullptr;
  CLI::App* verify = nullptr;
  CLI::App* events = nullptr;
  CLI::App* history = nullptr;
  CLI::App* show = nullptr;
  CLI::App* stats = nullptr;
  CLI::App* accounts = nullptr;
  CLI::App* exp = nullptr;
  CLI::App* imp = nullptr;
};

void AddReadCommands(CLI::App& app, CommandLine& c) {
  EventsArgs& ea = c.events_args;
  c.events = app.add_subcommand("events", "Print events in seq order, payloads rendered as JSON");
  c.events->add_option("--after", ea.after, "Only events after this seq")->capture_default_str();
  c.events->add_option("--run", ea.run, "Only the events of this run");
  c.events->add_option("--type", ea.type, "Only events of this type (e.g. SyncCompleted)");
  c.events->add_flag("--follow", ea.follow, "Keep printing events as they are appended (stop with Ctrl-C)");
  c.events->add_option("--format", ea.format, "json (an array), ndjson or table")
      ->check(CLI::IsMember({"json", "ndjson", "table"}))
      ->capture_default_str();
  c.events->add_option("--limit", ea.limit, "Stop after this many events (0: no limit)")->capture_default_str();

  c.history = app.add_subcommand("history", "List sync runs, newest first");
  c.history->add_option("--account", c.account, "Only this account's runs");
  c.history->add_option("--status", c.status,
                        "Only runs with this status (running, completed, completed_with_gaps, failed, cancelled, interrupted)");
  c.history->add_option("--limit", c.limit, "Runs to list, 1..1000")->capture_default_str();
  c.history->add_option("--as-of", c.as_of,
                        "The history as it stood at a seq (a number) or a UTC time (2026-11-28T18:00:00Z)");
  c.history->add_option("--format", c.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

  auto* runs = app.add_subcommand("runs", "Sync runs");
  runs->require_subcommand(1);
  c.show = runs->add_subcommand("show", "Everything the history knows about one run");
  c.show->add_option("ID", c.run_id, "The run id")->required();
  c.show->add_option("--format", c.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

  c.stats = app.add_subcommand("stats", "Offers per account, run outcomes, last successful run, success rate");
  c.stats->add_option("--format", c.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

  c.accounts = app.add_subcommand("accounts",
                                  "Every account the log knows (removed ones too): state, where its settings come from, "
                                  "schedule, base URL, last change. Never credentials. Add, change and remove accounts "
                                  "through the API (/api/v1/accounts)");
  c.accounts->add_option("--format", c.format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();
}

void AddMaintenanceCommands(CLI::App& app, CommandLine& c) {
  c.rebuild = app.add_subcommand("rebuild", "Drop a projection and refold it from the whole log, then checkpoint it");
  c.rebuild->add_option("--projection", c.projection, "history, status, catalog, stats, rollup, accounts or all")->capture_default_str();
  c.verify = app.add_subcommand("verify",
                                "Check every event's checksum and the hash chain, rebuild every projection in scratch "
                                "space and compare digests; names the first bad seq or the projection and first "
                                "differing key");
}

void AddTransferCommands(CLI::App& app, CommandLine& c) {
  c.exp = app.add_subcommand("export", "Write every event, with its stored bytes, as NDJSON");
  c.exp->add_option("--to", c.file, "The file to write (FILE.ndjson)")->required();
  c.imp = app.add_subcommand("import", "Load an export into a fresh database, then verify it");
  c.imp->add_option("--from", c.file, "The file to read (FILE.ndjson)")->required()->check(CLI::ExistingFile);
}

Exit RunCommand(const CommandLine& c) {
  if (c.rebuild->parsed()) return Rebuild(c.db, c.projection);
  if (c.verify->parsed()) return Verify(c.db);
  if (c.events->parsed()) return Events(c.db, c.events_args);
  if (c.history->parsed()) return History(c.db, c.account, c.status, c.limit, c.as_of, c.format);
  if (c.show->parsed()) return RunsShow(c.db, c.run_id, c.format);
  if (c.stats->parsed()) return Stats(c.db, c.format);
  if (c.accounts->parsed()) return Accounts(c.db, c.format);
  if (c.exp->parsed()) return Export(c.db, c.file);
  if (c.imp->parsed()) return Import(c.db, c.file);
  return Exit{kExitUsage, "no command"};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "marketsync: inspect, verify and repair a marketsync database (the event log and its projections).\n"
      "Read commands (events, history, runs, stats, verify, export) work while marketsyncd runs;\n"
      "rebuild and import need the database to themselves.\n"
      "Exit codes: 0 ok, 1 verification found damage, 2 bad usage or input, 3 database cannot be\n"
      "opened or read, 4 not found."};
  app.require_subcommand(1);
  app.fallthrough();
  CommandLine c;
  app.add_option("--db", c.db, "The database directory (marketsyncd's --data)")->capture_default_str();
  AddMaintenanceCommands(app, c);
  AddReadCommands(app, c);
  AddTransferCommands(app, c);
  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  Exit exit;
  try {
    exit = RunCommand(c);
  } catch (const std::exception& e) {  // a dependency's (std::filesystem, allocation)
    exit = Exit{kExitDatabase, e.what()};
  }
  std::cout.flush();
  if (!exit.message.empty()) std::cerr << "marketsync: " << exit.message << "\n";
  return exit.code;
}
