// The PostgreSQL backend's append path (issue 17) against a real server: gap-free seqs, one
// SHA-256 chain with events/'s envelope bytes, steps refused on their own, and appenders on
// several connections (as several nodes) serialised by the head row.
#include "pglog/appender.h"

#include <gtest/gtest.h>

#include <map>
#include <thread>

#include "events/envelope_codec.h"
#include "pglog/schema.h"
#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {
namespace {

const EventTypeRegistry kTypes({{7, "Seventh", 1}});

Step OneStream(std::string stream, uint64_t expected, int events, std::string tag = "x") {
  Step s;
  s.correlation_id = "test";
  StreamAppend a{std::move(stream), expected, {}};
  for (int i = 0; i < events; ++i) a.events.push_back({7, 1, tag + std::to_string(i)});
  s.streams.push_back(std::move(a));
  return s;
}

int64_t Now() { return 1'700'000'000'000'000; }

class PgAppenderTest : public PgFixture {
 protected:
  std::vector<Result<AppendResult>> Append(PgConn& conn, std::vector<Step> steps) {
    auto r = AppendGroup(conn, kTypes, steps, Now);
    EXPECT_OK(r);
    return r.ok() ? std::move(r).value() : std::vector<Result<AppendResult>>{};
  }
  // Every stored envelope decoded, checked against its neighbours: seq 1..n without a gap, each
  // prev_hash the hash before it, each hash the body's SHA-256, the head row the last one.
  std::vector<Envelope> VerifiedLog() {
    auto rows = conn_->Query("SELECT seq, envelope FROM ms_events ORDER BY seq");
    EXPECT_OK(rows);
    std::vector<Envelope> out;
    Hash256 prev{};
    for (const auto& row : rows->rows) {
      const uint64_t seq = std::stoull(*row[0]);
      auto e = DecodeEnvelope(*row[1], seq, kTypes);
      EXPECT_OK(e);
      if (!e.ok()) break;
      EXPECT_EQ(e->seq, out.size() + 1) << "gap-free";
      EXPECT_EQ(e->prev_hash, prev) << "chained at seq " << seq;
      EXPECT_EQ(ComputeStoredBodyHash(*row[1]), e->hash) << "hash of seq " << seq;
      prev = e->hash;
      out.push_back(*e);
    }
    auto head = ReadHead(*conn_);
    EXPECT_OK(head);
    EXPECT_EQ(head->seq, out.size());
    EXPECT_EQ(head->hash, std::string(reinterpret_cast<const char*>(prev.data()), prev.size()));
    return out;
  }
};

TEST_F(PgAppenderTest, AGroupLandsChainedAndRefusedStepsWriteNothing) {
  std::vector<Step> steps;
  steps.push_back(OneStream("run-a", kNoStream, 3));
  steps.push_back(OneStream("run-a", kNoStream, 1));  // the stream exists by now: refused
  steps.push_back(OneStream("run-a", 3, 2));          // sees the first step's events
  Step bad = OneStream("run-b", kNoStream, 1);
  bad.streams[0].events[0].type = 8;  // not registered: refused on its own
  steps.push_back(std::move(bad));
  steps.push_back(OneStream("run-b", kNoStream, 1));
  steps.push_back(OneStream(std::string("run-\0c", 6), kNoStream, 1));  // no NUL in a stream id
  auto results = Append(*conn_, std::move(steps));
  ASSERT_EQ(results.size(), 6u);
  EXPECT_EQ(results[5].status().code(), Status::Code::kInvalidArgument) << results[5].status().ToString();
  ASSERT_OK(results[0]);
  EXPECT_EQ(results[0]->first_seq, 1u);
  EXPECT_EQ(results[0]->last_seq, 3u);
  EXPECT_EQ(results[1].status().code(), Status::Code::kFailedPrecondition) << results[1].status().ToString();
  ASSERT_OK(results[2]);
  EXPECT_EQ(results[2]->first_seq, 4u);
  EXPECT_EQ(results[2]->last_seq, 5u);
  EXPECT_EQ(results[3].status().code(), Status::Code::kInvalidArgument) << results[3].status().ToString();
  ASSERT_OK(results[4]);
  EXPECT_EQ(results[4]->first_seq, 6u);

  const std::vector<Envelope> log = VerifiedLog();
  ASSERT_EQ(log.size(), 6u);
  EXPECT_EQ(log[4].stream_id, "run-a");
  EXPECT_EQ(log[4].stream_version, 5u);
  EXPECT_EQ(log[4].payload, "x1");
  EXPECT_EQ(log[5].stream_id, "run-b");
  EXPECT_EQ(log[5].stream_version, 1u);
  EXPECT_EQ(log[5].recorded_at_us, Now());
}

TEST_F(PgAppenderTest, KeyExpectationsAreCheckedWhereTheWriteHappens) {
  auto lease = [](std::string run) {
    Step s = OneStream("run-" + run, kNoStream, 1);
    s.expect.push_back({"meta", "lease/main", std::nullopt});  // the account must be free
    s.writes.push_back({"meta", "lease/main", run});
    return s;
  };
  std::vector<Step> steps;
  steps.push_back(lease("1"));
  steps.push_back(lease("2"));  // the same account in the same group: already taken
  auto results = Append(*conn_, std::move(steps));
  ASSERT_EQ(results.size(), 2u);
  EXPECT_OK(results[0]);
  EXPECT_EQ(results[1].status().code(), Status::Code::kFailedPrecondition);
  std::vector<Step> later;
  later.push_back(lease("3"));
  EXPECT_EQ(Append(*conn_, std::move(later))[0].status().code(), Status::Code::kFailedPrecondition);

  Step release;  // the holder frees it, expecting to hold it
  release.expect.push_back({"meta", "lease/main", "1"});
  release.writes.push_back({"meta", "lease/main", std::nullopt});
  std::vector<Step> again;
  again.push_back(std::move(release));
  again.push_back(lease("4"));
  auto freed = Append(*conn_, std::move(again));
  ASSERT_OK(freed[0]);
  EXPECT_EQ(freed[0]->last_seq, 0u) << "a step without events";
  ASSERT_OK(freed[1]);
  auto holder = conn_->Query("SELECT value FROM ms_kv WHERE family = 'meta' AND key = 'lease/main'");
  ASSERT_OK(holder);
  EXPECT_EQ(holder->rows.at(0).at(0), "4");
  EXPECT_EQ(VerifiedLog().size(), 2u);
}

// Stream ids and keys go to the server in array literals: quotes, backslashes, commas, braces
// and raw bytes must all come back as they went.
TEST_F(PgAppenderTest, AwkwardNamesAndBytesSurviveTheBatch) {
  const std::string stream = "run-\"a\\b,{c} d";
  constexpr char kKey[] = "lease/\"x\\,{}\0y";
  const std::string key(kKey, sizeof(kKey) - 1);
  std::string value;
  for (int i = 0; i < 256; ++i) value.push_back(static_cast<char>(i));
  Step s = OneStream(stream, kNoStream, 2);
  s.writes.push_back({"meta", key, value});
  std::vector<Step> steps;
  steps.push_back(std::move(s));
  Step next = OneStream(stream, 2, 1);
  next.expect.push_back({"meta", key, value});
  steps.push_back(std::move(next));
  auto results = Append(*conn_, std::move(steps));
  ASSERT_EQ(results.size(), 2u);
  ASSERT_OK(results[0]);
  ASSERT_OK(results[1]);  // it saw the first step's stream version and key
  const std::vector<Envelope> log = VerifiedLog();
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[2].stream_id, stream);
  EXPECT_EQ(log[2].stream_version, 3u);
  auto stored = conn_->Query("SELECT key, value FROM ms_kv WHERE family = 'meta'");
  ASSERT_OK(stored);
  ASSERT_EQ(stored->rows.size(), 1u);
  EXPECT_EQ(stored->rows[0][0], key);
  EXPECT_EQ(stored->rows[0][1], value);
  auto version = conn_->Query("SELECT version FROM ms_streams WHERE stream_id = $1", {PgParam::Text(stream)});
  ASSERT_OK(version);
  EXPECT_EQ(version->rows.at(0).at(0), "3");
}

// Four connections appending at once, as four nodes would: the head row makes them take
// turns, so the seqs have no gap and the chain no fork.
TEST_F(PgAppenderTest, AppendersOnSeveralConnectionsShareOneGapFreeChain) {
  constexpr int kWriters = 4, kGroups = 30;
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([this, w] {
      std::unique_ptr<PgConn> conn = Connect();
      if (!conn) return;
      for (int g = 0; g < kGroups; ++g) {
        std::vector<Step> steps;
        steps.push_back(OneStream("writer-" + std::to_string(w), kAnyVersion, 3));
        steps.push_back(OneStream("shared", kAnyVersion, 1, "w" + std::to_string(w) + "-"));
        for (const auto& r : Append(*conn, std::move(steps))) EXPECT_OK(r);
      }
    });
  }
  for (auto& t : writers) t.join();
  const std::vector<Envelope> log = VerifiedLog();
  EXPECT_EQ(log.size(), static_cast<size_t>(kWriters * kGroups * 4));
  std::map<std::string, uint64_t> versions;
  for (const Envelope& e : log) EXPECT_EQ(e.stream_version, ++versions[e.stream_id]) << e.stream_id;
  EXPECT_EQ(versions["shared"], static_cast<uint64_t>(kWriters * kGroups));
}

}  // namespace
}  // namespace marketsync::pglog
