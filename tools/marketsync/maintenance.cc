#include "tools/marketsync/maintenance.h"

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "base/base64.h"
#include "pglog/store.h"
#include "projections/all.h"
#include "projections/json_views.h"
#include "tools/marketsync/export_line.h"

namespace marketsync::cli {

// --- rebuild, verify ------------------------------------------------------------------------

Exit Rebuild(const std::string& db, const std::string& which) {
  auto names = AllProjectionNames();
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
namespace {

Exit VerifyLog(const EventLog& log) {
  TRY(auto report, Check(log.Verify()));
  bool ok = true;
  if (report.ok) {
    std::cout << fmt::format("log: ok, {} events, head {}\n", report.events_checked, HashToHex(log.Head().hash));
  } else {
    std::cout << fmt::format("log: DAMAGED at seq {}: {}\n", report.first_bad_seq, report.reason);
    ok = false;
  }
  auto checks = VerifyProjections(log);
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
                                 PrintableKey(c.first_difference->key), c.first_difference->what);
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

}  // namespace

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
    TRY(boost::json::object o, Check(EventJson(it->envelope())));
    o["raw"] = Base64Encode(it->raw());
    out << RenderJson(o) << "\n";
    if ((++n & 0xFFF) == 0) progress(n);
  }
  progress(n);
  out.close();
  if (!out) return Exit{kExitUsage, "writing " + tmp + " failed"};
  std::filesystem::rename(tmp, to);
  std::cout << fmt::format("exported {} events to {} (head {})\n", n, to, HashToHex(log->Head().hash));
  return {};
}

Exit Import(const std::string& db, const std::string& from) {
  std::ifstream in(from, std::ios::binary);
  if (!in) return Exit{kExitUsage, "cannot read " + from};
  const bool postgres = pglog::IsPostgresStore(db);
  if (!postgres && std::filesystem::exists(db) && !std::filesystem::is_empty(db)) {
    return Exit{kExitUsage, db + " is not empty: import writes into a fresh database"};
  }
  TRY(auto log, OpenForWrite(db, true));
  if (log->Head().seq != 0) {
    return Exit{kExitUsage, fmt::format("{} holds {} events: import writes into a fresh database",
                                        pglog::DescribeStore(db), log->Head().seq)};
  }
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
    auto bytes = StoredBytesOfExportLine(line);
    if (!bytes.ok()) return Exit{kExitUsage, fmt::format("{} line {}: {}", from, line_no, bytes.status().message())};
    chunk.push_back(std::move(*bytes));
    if (chunk.size() == 10000) {
      if (Exit x = flush(); x.code != kExitOk) return x;
    }
  }
  if (Exit x = flush(); x.code != kExitOk) return x;
  std::cout << fmt::format("imported {} events into {}\n", n, pglog::DescribeStore(db));
  return VerifyLog(*log);
}

}  // namespace marketsync::cli
