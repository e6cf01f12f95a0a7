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
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "engine/sync_engine.h"
#include "events/event_log.h"
#include "events/event_type.h"
#include "projections/all.h"
#include "projections/history.h"
#include "projections/json_views.h"
#include "tools/marketsync/base64.h"

namespace ms = marketsync;

namespace {

constexpr int kExitOk = 0;
constexpr int kExitDamaged = 1;
constexpr int kExitUsage = 2;
constexpr int kExitDatabase = 3;
constexpr int kExitNotFound = 4;

struct Failure {
  int code;
  std::string message;
};

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

ms::EventLogOptions BaseOptions(ms::EventLogOptions::Mode mode) {
  ms::EventLogOptions o;
  o.mode = mode;
  o.projections = ms::MakeAllProjections();
  if (mode == ms::EventLogOptions::Mode::kReadWrite) o.extra_column_families = ms::SyncEngine::ColumnFamilies();
  return o;
}

// Reads follow a running server: a RocksDB secondary instance beside its primary.
std::unique_ptr<ms::EventLog> OpenForRead(const std::string& db) {
  if (!std::filesystem::exists(db)) throw Failure{kExitDatabase, "no database at " + db};
  auto log = ms::EventLog::Open(db, BaseOptions(ms::EventLogOptions::Mode::kSecondary));
  if (!log.ok()) throw Failure{kExitDatabase, log.status().ToString()};
  return std::move(log).value();
}

std::unique_ptr<ms::EventLog> OpenForWrite(const std::string& db, bool create) {
  if (!create && !std::filesystem::exists(db)) throw Failure{kExitDatabase, "no database at " + db};
  auto log = ms::EventLog::Open(db, BaseOptions(ms::EventLogOptions::Mode::kReadWrite));
  if (!log.ok()) {
    throw Failure{kExitDatabase, log.status().ToString() +
                                     (log.status().message().find("lock") != std::string::npos
                                          ? " (is marketsyncd running on it? stop it first)"
                                          : "")};
  }
  return std::move(log).value();
}

template <typename T>
T Check(ms::Result<T> r, int code = kExitDatabase) {
  if (!r.ok()) throw Failure{code, r.status().ToString()};
  return std::move(r).value();
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

void PrintEventRow(const ms::Envelope& e, const std::string& format, bool& first) {
  if (format == "table") {
    std::cout << Pad(std::to_string(e.seq), 9) << Pad(ms::FormatTimeUs(e.recorded_at_us), 26)
              << Pad(ms::EventTypeName(e.type), 24) << e.stream_id << "\n";
    return;
  }
  auto json = Check(ms::EventJson(e));
  if (format == "json") {
    std::cout << (first ? "[\n" : ",\n") << boost::json::serialize(json);
  } else {
    std::cout << boost::json::serialize(json) << "\n";
  }
  first = false;
}

int Events(const std::string& db, const EventsArgs& a) {
  if (a.follow && a.format == "json") throw Failure{kExitUsage, "--follow writes ndjson or table, not a json array"};
  std::optional<uint16_t> type;
  if (!a.type.empty()) {
    const ms::EventTypeInfo* info = ms::FindEventTypeByName(a.type);
    if (info == nullptr) throw Failure{kExitUsage, "unknown event type " + a.type};
    type = static_cast<uint16_t>(info->type);
  }
  auto log = OpenForRead(db);
  if (a.format == "table") std::cout << Pad("SEQ", 9) << Pad("RECORDED AT", 26) << Pad("TYPE", 24) << "STREAM\n";
  bool first = true;
  uint64_t printed = 0;
  uint64_t next = a.after + 1;
  auto print_from = [&](uint64_t from) -> bool {  // false once the limit is reached
    if (!a.run.empty()) {
      for (const auto& e : Check(log->ReadStream(ms::RunStreamId(a.run)))) {
        if (e.seq < from || (type && e.type != *type)) continue;
        PrintEventRow(e, a.format, first);
        next = e.seq + 1;
        if (++printed == a.limit) return false;
      }
      return true;
    }
    for (auto it = log->Read(from); it->Valid(); it->Next()) {
      const ms::Envelope& e = it->envelope();
      next = e.seq + 1;
      if (type && e.type != *type) continue;
      PrintEventRow(e, a.format, first);
      if (++printed == a.limit) return false;
    }
    return true;
  };
  bool more = print_from(next);
  if (a.follow) {
    std::cout.flush();
    while (more) {
      const uint64_t head = log->WaitForSeq(next - 1, std::chrono::seconds(1));
      if (head >= next) {
        // A run's stream gains events anywhere in the log: read it again from its next seq.
        more = print_from(next);
        next = std::max(next, head + 1);
        std::cout.flush();
      }
    }
  }
  if (a.format == "json") std::cout << (first ? "[]\n" : "\n]\n");
  return kExitOk;
}

// --- history, runs, stats -------------------------------------------------------------------

struct AsOfArg {
  std::optional<uint64_t> seq;
  std::optional<int64_t> time_us;
};

AsOfArg ParseAsOf(const std::string& text) {
  AsOfArg a;
  if (text.empty()) return a;
  if (text.find_first_not_of("0123456789") == std::string::npos) {
    a.seq = std::stoull(text);
  } else if (auto t = ms::ParseTimeUs(text)) {
    a.time_us = *t;
  } else {
    throw Failure{kExitUsage, "--as-of takes a seq (a number) or a UTC time like 2026-11-28T18:00:00Z, not " + text};
  }
  return a;
}

int History(const std::string& db, const std::string& account, const std::string& status, size_t limit,
            const std::string& as_of, const std::string& format) {
  const AsOfArg point = ParseAsOf(as_of);
  auto log = OpenForRead(db);
  ms::HistoryQuery q;
  if (!account.empty()) q.account = account;
  if (!status.empty()) q.status = status;
  q.limit = limit;
  std::unique_ptr<ms::AsOfView> view;
  const ms::KvReader* reader = log.get();
  uint64_t seq = log->Head().seq;
  if (point.seq || point.time_us) {
    view = Check(ms::FoldAsOf(*log, ms::FoldLimit{point.seq, point.time_us}, {ms::HistoryProjection::kName}));
    reader = &view->store;
    seq = view->fold.last_seq;
  }
  auto page = Check(ms::ListHistory(*reader, q), kExitUsage);
  const int64_t now = view ? view->fold.last_recorded_at_us : NowUs();
  if (format == "json") {
    boost::json::array runs;
    for (const auto& r : page.runs) runs.push_back(ms::RunJson(r, now));
    boost::json::object o{{"as_of_seq", seq}, {"syncs", std::move(runs)}, {"next_cursor", page.next_cursor}};
    std::cout << boost::json::serialize(o) << "\n";
    return kExitOk;
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
  return kExitOk;
}

int RunsShow(const std::string& db, const std::string& id, const std::string& format) {
  auto log = OpenForRead(db);
  auto run = Check(ms::GetHistoryRun(*log, id));
  if (!run) throw Failure{kExitNotFound, "no run " + id};
  boost::json::object o = ms::RunJson(*run, NowUs());
  if (format == "json") {
    std::cout << boost::json::serialize(o) << "\n";
    return kExitOk;
  }
  for (const auto& [key, value] : o) std::cout << Pad(std::string(key), 24) << boost::json::serialize(value) << "\n";
  return kExitOk;
}

int Stats(const std::string& db, const std::string& format) {
  auto log = OpenForRead(db);
  auto stats = Check(ms::GetStats(*log));
  if (format == "json") {
    boost::json::array accounts;
    for (const auto& a : stats.accounts) accounts.push_back(ms::AccountStatsJson(a));
    boost::json::object o{{"accounts", std::move(accounts)},
                          {"total_products", stats.total_offers},
                          {"runs_finished", stats.total_runs_finished},
                          {"runs_completed", stats.total_runs_completed}};
    std::cout << boost::json::serialize(o) << "\n";
    return kExitOk;
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
  return kExitOk;
}

// --- rebuild, verify ------------------------------------------------------------------------

int Rebuild(const std::string& db, const std::string& which) {
  auto names = ms::AllProjectionNames();
  if (which != "all") {
    if (std::find(names.begin(), names.end(), which) == names.end()) {
      throw Failure{kExitUsage, "unknown projection " + which + " (history, status, catalog, stats or all)"};
    }
    names = {which};
  }
  auto log = OpenForWrite(db, false);
  const uint64_t head = log->Head().seq;
  Progress progress("rebuilding " + (which == "all" ? std::string("every projection") : which), head);
  const auto start = std::chrono::steady_clock::now();
  auto report = Check(log->RebuildProjections(names, [&](uint64_t seq) { progress(seq); }));
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::cout << fmt::format("rebuilt {}: {} events, {} rows in {:.2f} s ({:.0f} events/s), checkpoint {}\n",
                           fmt::join(names, ", "), report.events, report.rows, secs,
                           secs > 0 ? report.events / secs : 0.0, report.checkpoint);
  return kExitOk;
}

// Checks the chain and every projection; prints findings; true when all is well.
bool VerifyLog(const ms::EventLog& log) {
  auto report = Check(log.Verify());
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
    return false;
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
  return ok;
}

int Verify(const std::string& db) {
  auto log = OpenForRead(db);
  return VerifyLog(*log) ? kExitOk : kExitDamaged;
}

// --- export, import -------------------------------------------------------------------------

int Export(const std::string& db, const std::string& to) {
  auto log = OpenForRead(db);
  const std::string tmp = to + ".partial";
  std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
  if (!out) throw Failure{kExitUsage, "cannot write " + tmp};
  const uint64_t head = log->Head().seq;
  Progress progress("exporting", head);
  uint64_t n = 0;
  for (auto it = log->Read(1); it->Valid() && it->envelope().seq <= head; it->Next()) {
    boost::json::object o = Check(ms::EventJson(it->envelope()));
    o["raw"] = ms::Base64Encode(it->raw());
    out << boost::json::serialize(o) << "\n";
    if ((++n & 0xFFF) == 0) progress(n);
  }
  progress(n);
  out.close();
  if (!out) throw Failure{kExitUsage, "writing " + tmp + " failed"};
  std::filesystem::rename(tmp, to);
  std::cout << fmt::format("exported {} events to {} (head {})\n", n, to, ms::HashToHex(log->Head().hash));
  return kExitOk;
}

int Import(const std::string& db, const std::string& from) {
  std::ifstream in(from, std::ios::binary);
  if (!in) throw Failure{kExitUsage, "cannot read " + from};
  if (std::filesystem::exists(db) && !std::filesystem::is_empty(db)) {
    throw Failure{kExitUsage, db + " is not empty: import writes into a fresh database"};
  }
  auto log = OpenForWrite(db, true);
  std::vector<std::string> chunk;
  std::string line;
  uint64_t line_no = 0, n = 0;
  auto flush = [&] {
    if (chunk.empty()) return;
    auto r = log->Import(chunk);
    if (!r.ok()) throw Failure{kExitDamaged, r.status().message()};
    n += chunk.size();
    chunk.clear();
  };
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    boost::system::error_code ec;
    boost::json::value v = boost::json::parse(line, ec);
    const boost::json::string* raw = nullptr;
    if (!ec && v.is_object()) {
      if (auto* r = v.as_object().if_contains("raw"); r != nullptr && r->is_string()) raw = &r->as_string();
    }
    if (raw == nullptr) throw Failure{kExitUsage, fmt::format("{} line {}: not an exported event (no \"raw\")", from, line_no)};
    auto bytes = ms::Base64Decode(std::string_view(raw->data(), raw->size()));
    if (!bytes) throw Failure{kExitUsage, fmt::format("{} line {}: \"raw\" is not base64", from, line_no)};
    chunk.push_back(std::move(*bytes));
    if (chunk.size() == 10000) flush();
  }
  flush();
  std::cout << fmt::format("imported {} events into {}\n", n, db);
  return VerifyLog(*log) ? kExitOk : kExitDamaged;
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
  std::string db = "./data";
  app.add_option("--db", db, "The database directory (marketsyncd's --data)")->capture_default_str();

  std::string projection = "all";
  auto* rebuild = app.add_subcommand("rebuild", "Drop a projection and refold it from the whole log, then checkpoint it");
  rebuild->add_option("--projection", projection, "history, status, catalog, stats or all")->capture_default_str();

  app.add_subcommand("verify",
                     "Check every event's checksum and the hash chain, rebuild every projection in scratch space "
                     "and compare digests; names the first bad seq or the projection and first differing key");

  EventsArgs ea;
  auto* events = app.add_subcommand("events", "Print events in seq order, payloads rendered as JSON");
  events->add_option("--after", ea.after, "Only events after this seq")->capture_default_str();
  events->add_option("--run", ea.run, "Only the events of this run");
  events->add_option("--type", ea.type, "Only events of this type (e.g. SyncCompleted)");
  events->add_flag("--follow", ea.follow, "Keep printing events as they are appended (stop with Ctrl-C)");
  events->add_option("--format", ea.format, "json (an array), ndjson or table")
      ->check(CLI::IsMember({"json", "ndjson", "table"}))
      ->capture_default_str();
  events->add_option("--limit", ea.limit, "Stop after this many events (0: no limit)")->capture_default_str();

  std::string account, status, as_of, format = "table";
  size_t limit = 50;
  auto* history = app.add_subcommand("history", "List sync runs, newest first");
  history->add_option("--account", account, "Only this account's runs");
  history->add_option("--status", status, "Only runs with this status (running, completed, completed_with_gaps, failed, cancelled, interrupted)");
  history->add_option("--limit", limit, "Runs to list, 1..1000")->capture_default_str();
  history->add_option("--as-of", as_of, "The history as it stood at a seq (a number) or a UTC time (2026-11-28T18:00:00Z)");
  history->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

  auto* runs = app.add_subcommand("runs", "Sync runs");
  runs->require_subcommand(1);
  std::string run_id;
  auto* show = runs->add_subcommand("show", "Everything the history knows about one run");
  show->add_option("ID", run_id, "The run id")->required();
  show->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

  auto* stats = app.add_subcommand("stats", "Offers per account, run outcomes, last successful run, success rate");
  stats->add_option("--format", format, "table or json")->check(CLI::IsMember({"table", "json"}))->capture_default_str();

  std::string file;
  auto* exp = app.add_subcommand("export", "Write every event, with its stored bytes, as NDJSON");
  exp->add_option("--to", file, "The file to write (FILE.ndjson)")->required();
  auto* imp = app.add_subcommand("import", "Load an export into a fresh database, then verify it");
  imp->add_option("--from", file, "The file to read (FILE.ndjson)")->required()->check(CLI::ExistingFile);

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return kExitUsage;
  }
  try {
    if (rebuild->parsed()) return Rebuild(db, projection);
    if (app.got_subcommand("verify")) return Verify(db);
    if (events->parsed()) return Events(db, ea);
    if (history->parsed()) {
      if (limit == 0 || limit > 1000) throw Failure{kExitUsage, "--limit must be 1..1000"};
      return History(db, account, status, limit, as_of, format);
    }
    if (show->parsed()) return RunsShow(db, run_id, format);
    if (stats->parsed()) return Stats(db, format);
    if (exp->parsed()) return Export(db, file);
    if (imp->parsed()) return Import(db, file);
  } catch (const Failure& f) {
    std::cout.flush();
    std::cerr << "marketsync: " << f.message << "\n";
    return f.code;
  } catch (const std::exception& e) {
    std::cerr << "marketsync: " << e.what() << "\n";
    return kExitDatabase;
  }
  return kExitUsage;
}
