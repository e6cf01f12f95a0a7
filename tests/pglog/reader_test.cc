// Reads of the log on PostgreSQL (issue 17): what the appender wrote comes back as EventLog's
// reads give it on RocksDB.
#include "pglog/reader.h"

#include <gtest/gtest.h>

#include "events/envelope_codec.h"
#include "pglog/appender.h"
#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {
namespace {

const EventTypeRegistry kTypes({{7, "Seventh", 1}});

class PgReaderTest : public PgFixture {
 protected:
  void Append(std::vector<Step> steps) {
    auto r = AppendGroup(*conn_, kTypes, steps, [] { return int64_t{1'700'000'000'000'000}; });
    ASSERT_OK(r);
    for (const auto& one : *r) ASSERT_OK(one);
  }
  static Step Events(std::string stream, std::vector<std::string> payloads) {
    Step s;
    StreamAppend a{std::move(stream), kAnyVersion, {}};
    for (auto& p : payloads) a.events.push_back({7, 1, std::move(p)});
    s.streams.push_back(std::move(a));
    return s;
  }
};

TEST_F(PgReaderTest, StreamsSeqsAndKeysReadBackAsWritten) {
  std::vector<Step> steps;
  steps.push_back(Events("run-b", {"b1", "b2"}));
  steps.push_back(Events("run-a", {"a1"}));
  steps.push_back(Events("run-b", {"b3"}));
  steps.push_back(Events("product-main-1", {"p1"}));
  steps.back().writes.push_back({"meta", std::string("k\0", 2), "v"});
  Append(std::move(steps));

  auto b = ReadStream(*conn_, kTypes, "run-b");
  ASSERT_OK(b);
  ASSERT_EQ(b->size(), 3u);
  EXPECT_EQ((*b)[0].payload, "b1");
  EXPECT_EQ((*b)[2].payload, "b3");
  EXPECT_EQ((*b)[2].seq, 4u);
  EXPECT_EQ((*b)[2].stream_version, 3u);
  auto tail = ReadStream(*conn_, kTypes, "run-b", 3);
  ASSERT_OK(tail);
  ASSERT_EQ(tail->size(), 1u);
  EXPECT_EQ(tail->front().payload, "b3");
  auto none = ReadStream(*conn_, kTypes, "run-zzz");
  ASSERT_OK(none);
  EXPECT_TRUE(none->empty());

  EXPECT_EQ(*StreamVersion(*conn_, "run-b"), 3u);
  EXPECT_EQ(*StreamVersion(*conn_, "run-zzz"), 0u);
  auto runs = StreamIds(*conn_, "run-");
  ASSERT_OK(runs);
  EXPECT_EQ(*runs, (std::vector<std::string>{"run-a", "run-b"}));
  auto all = StreamIds(*conn_, "");
  ASSERT_OK(all);
  EXPECT_EQ(*all, (std::vector<std::string>{"product-main-1", "run-a", "run-b"}));

  auto page = ReadStoredPage(*conn_, 2, 2);
  ASSERT_OK(page);
  ASSERT_EQ(page->size(), 2u);
  EXPECT_EQ((*page)[0].first, 2u);
  auto second = DecodeEnvelope((*page)[0].second, 2, kTypes);
  ASSERT_OK(second);
  EXPECT_EQ(second->payload, "b2");
  EXPECT_EQ((*page)[1].first, 3u);

  auto v = GetKv(*conn_, "meta", std::string("k\0", 2));
  ASSERT_OK(v);
  EXPECT_EQ(*v, std::optional<std::string>("v"));
  auto missing = GetKv(*conn_, "meta", "k");
  ASSERT_OK(missing);
  EXPECT_FALSE(missing->has_value()) << "a key is its bytes: k is not k\\0";
}

TEST_F(PgReaderTest, AnEnvelopeThatDoesNotDecodeIsNamed) {
  std::vector<Step> steps;
  steps.push_back(Events("run-a", {"a1", "a2"}));
  Append(std::move(steps));
  ASSERT_OK(conn_->Exec("UPDATE ms_events SET envelope = substring(envelope from 1 for 20) WHERE seq = 2"));
  auto r = ReadStream(*conn_, kTypes, "run-a");
  EXPECT_EQ(r.status().code(), Status::Code::kCorruption);
  EXPECT_NE(r.status().message().find("2"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace marketsync::pglog
