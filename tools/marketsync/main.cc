// marketsync: the operator's and auditor's command line over a marketsync database, a RocksDB
// directory or a PostgreSQL connection string. The read commands live here; rebuild, verify,
// export and import in maintenance.cc; exit codes and opening the database in cli.h.

#include <CLI/CLI.hpp>
#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <iostream>
#include <optional>
#include <string>

#include <fmt/format.h>

#include "base/clock.h"
#include "events/event_log.h"
#include "schema/event_type.h"
#include "schema/stream_ids.h"
#include "projections/all.h"
#include "projections/history.h"
#include "projections/json_views.h"
#include "tools/marketsync/cli.h"
#include "tools/marketsync/maintenance.h"

namespace ms = marketsync;

namespace {

using ms::NowUs;
using namespace ms::cli;  // NOLINT(google-build-using-namespace): the CLI's own vocabulary

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
      "on RocksDB, rebuild and import need the database to themselves (on PostgreSQL they queue\n"
      "with the nodes' appends).\n"
      "Exit codes: 0 ok, 1 verification found damage, 2 bad usage or input, 3 database cannot be\n"
      "opened or read, 4 not found."};
  app.require_subcommand(1);
  app.fallthrough();
  CommandLine c;
  app.add_option("--db", c.db,
                 "The database: a directory (marketsyncd's --data) or a PostgreSQL connection string "
                 "(marketsyncd's --store: postgres://... or host=... dbname=...)")
      ->envname("MARKETSYNC_STORE")
      ->capture_default_str();
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
