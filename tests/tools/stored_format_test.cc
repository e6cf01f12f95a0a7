// A database written before the architecture change (tests/fixtures/v1, written at commit
// 8a16cfa) opens, verifies, rebuilds and answers the same with the current binaries: the stored
// format (envelopes, streams rows, projection rows, meta keys) did not change. Projections added
// since are built from the log by the first read-write open.

#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <cmath>
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <set>
#include <sstream>

#include "base/sha256.h"
#include "events/envelope.h"
#include "tests/testutil/child_process.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync {
namespace {

namespace json = boost::json;

const std::string kFixture = std::string(MARKETSYNC_FIXTURES) + "/v1";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Sha256Hex(const std::string& bytes) {
  Hash256 h{};
  Sha256(bytes.data(), bytes.size(), h.data());
  return HashToHex(h);
}

// The digest outputs.sha256 records for `name`.
std::string RecordedDigest(const std::string& name) {
  std::istringstream in(ReadFile(kFixture + "/outputs.sha256"));
  std::string digest, file;
  while (in >> digest >> file) {
    if (file == name) return digest;
  }
  return "";
}

// Fields the answers gained since the fixture was recorded (a run's `queued`): new in `a`, absent
// from the recorded `b`.
const std::set<std::string, std::less<>> kFieldsAddedSince = {"queued"};

// Equal JSON; numbers equal to 3 decimals (durations and rates print as fixed decimals now).
void ExpectSameJson(const json::value& a, const json::value& b, const std::string& where) {
  if (a.is_number() && b.is_number()) {
    EXPECT_NEAR(a.to_number<double>(), b.to_number<double>(), 5e-4) << where;
    return;
  }
  ASSERT_EQ(a.kind(), b.kind()) << where << ": " << json::serialize(a) << " vs " << json::serialize(b);
  if (a.is_object()) {
    size_t added = 0;
    for (const auto& [key, value] : a.as_object()) {
      added += kFieldsAddedSince.contains(std::string_view(key)) && !b.as_object().contains(key) ? 1 : 0;
    }
    ASSERT_EQ(a.as_object().size(), b.as_object().size() + added) << where;
    for (const auto& [key, value] : a.as_object()) {
      if (kFieldsAddedSince.contains(std::string_view(key)) && !b.as_object().contains(key)) continue;
      ASSERT_TRUE(b.as_object().contains(key)) << where << "." << std::string_view(key);
      ExpectSameJson(value, b.as_object().at(key), where + "." + std::string(key));
    }
  } else if (a.is_array()) {
    ASSERT_EQ(a.as_array().size(), b.as_array().size()) << where;
    for (size_t i = 0; i < a.as_array().size(); ++i) {
      ExpectSameJson(a.as_array()[i], b.as_array()[i], where + "[" + std::to_string(i) + "]");
    }
  } else {
    EXPECT_EQ(a, b) << where;
  }
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) out.push_back(line);
  return out;
}

// Projections added since the fixture was written (rollup, accounts), or whose rows changed layout (status
// version 2 keeps the ids of the runs in flight in a row of their own): a read-only open says
// they are not built yet, and a read-write open builds them in this build's layout.
const std::vector<std::string> kChangedSince = {"status", "rollup", "accounts"};

bool IsChanged(const std::string& line) {
  return std::any_of(kChangedSince.begin(), kChangedSince.end(),
                     [&](const std::string& name) { return line.starts_with("projection " + name + ": "); });
}

// `marketsync verify` printed every line the old CLI printed (the log's head, the digests of the
// projections whose layout is the same), and for each changed projection a line that `added`
// says (e.g. "not built yet", or "ok, digest" once a read-write open built it).
void ExpectOldVerifyLines(const std::string& output, const std::string& added) {
  const std::vector<std::string> old_lines = Lines(ReadFile(kFixture + "/verify.txt"));
  const std::vector<std::string> lines = Lines(output);
  for (const std::string& line : old_lines) {
    if (IsChanged(line)) continue;
    EXPECT_NE(std::find(lines.begin(), lines.end(), line), lines.end()) << "missing: " << line << "\nin:\n" << output;
  }
  size_t changed = 0;
  for (const std::string& line : lines) {
    if (std::find(old_lines.begin(), old_lines.end(), line) != old_lines.end() && !IsChanged(line)) continue;
    ++changed;
    EXPECT_TRUE(IsChanged(line) && line.find(": " + added) != std::string::npos) << line;
  }
  EXPECT_EQ(changed, kChangedSince.size()) << output;
}

class StoredFormatTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string cmd = "tar -xzf '" + kFixture + "/database.tar.gz' -C '" + dir_.path().string() + "'";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  }
  std::string db() const { return dir_.Sub("db"); }
  testing::ProgramOutput Cli(std::vector<std::string> args) {
    args.insert(args.begin(), {"--db", db()});
    return testing::RunProgram(MARKETSYNC_CLI, args);
  }

  testing::TempDir dir_;
};

TEST_F(StoredFormatTest, AnOldDatabaseVerifiesWithTheSameDigests) {
  // Read-only: the projections changed since are not there yet, and it says so.
  auto verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.text();
  ExpectOldVerifyLines(verify.text(), "not built yet");
}

TEST_F(StoredFormatTest, AnOldDatabaseExportsTheSameBytesAndEvents) {
  const std::string file = dir_.Sub("export.ndjson");
  auto exported = Cli({"export", "--to", file});
  ASSERT_EQ(exported.exit_code, 0) << exported.text();
  EXPECT_EQ(Sha256Hex(ReadFile(file)), RecordedDigest("export.ndjson"));
  auto events = Cli({"events", "--format", "ndjson"});
  ASSERT_EQ(events.exit_code, 0);
  EXPECT_EQ(events.lines.size(), 324u);
  EXPECT_EQ(Sha256Hex(events.text()), RecordedDigest("events.ndjson"));
}

TEST_F(StoredFormatTest, AnOldDatabaseAnswersTheSameHistoryAndStats) {
  auto history = Cli({"history", "--format", "json", "--limit", "100", "--as-of", "324"});
  ASSERT_EQ(history.exit_code, 0) << history.text();
  ExpectSameJson(json::parse(history.text()), json::parse(ReadFile(kFixture + "/history.json")), "history");
  auto stats = Cli({"stats", "--format", "json"});
  ASSERT_EQ(stats.exit_code, 0) << stats.text();
  ExpectSameJson(json::parse(stats.text()), json::parse(ReadFile(kFixture + "/stats.json")), "stats");
}

TEST_F(StoredFormatTest, AnOldDatabaseRebuildsIntoTheSameRows) {
  // A read-write open of the current code (projection versions, catch-up), then every
  // projection refolded by it: the digests are those the old code's rows had, but for the
  // projections changed since.
  auto rebuild = Cli({"rebuild"});
  ASSERT_EQ(rebuild.exit_code, 0) << rebuild.text();
  auto verify = Cli({"verify"});
  EXPECT_EQ(verify.exit_code, 0) << verify.text();
  ExpectOldVerifyLines(verify.text(), "ok, digest ");
}

}  // namespace
}  // namespace marketsync
