// The commands' rules without an engine: what a start validates, and what its step and a
// cancel's step carry.

#include "engine/internal/commands.h"

#include <gtest/gtest.h>

#include "schema/payload_codec.h"
#include "schema/store_keys.h"
#include "schema/sync_events.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

const std::vector<std::string> kAccounts = {"main", "fbe"};

StartSyncRequest Request(std::string account) {
  StartSyncRequest r;
  r.account_type = std::move(account);
  return r;
}

TEST(CommandsTest, BothMeansEveryConfiguredAccountInOrder) {
  auto both = ValidateStartSync(Request("both"), kAccounts);
  ASSERT_OK(both);
  EXPECT_EQ(*both, kAccounts);
  auto one = ValidateStartSync(Request("fbe"), kAccounts);
  ASSERT_OK(one);
  EXPECT_EQ(*one, std::vector<std::string>{"fbe"});
}

TEST(CommandsTest, EachFieldIsValidatedWithWhy) {
  auto refused = [](StartSyncRequest r, const char* says) {
    auto v = ValidateStartSync(r, kAccounts);
    ASSERT_FALSE(v.ok()) << says;
    EXPECT_EQ(v.status().code(), Status::Code::kInvalidArgument);
    EXPECT_NE(v.status().message().find(says), std::string::npos) << v.status().message();
  };
  refused(Request(""), "account_type is required: one of main, fbe or both");
  StartSyncRequest r = Request("main");
  r.mode = "delta";
  refused(r, "mode must be \"full\" or \"incremental\"");
  r = Request("main");
  r.max_pages = 1'000'001;
  refused(r, "max_pages must be in 1..1000000");
  r = Request("main");
  r.items_per_page = 0;
  refused(r, "items_per_page must be in 1..100");
  r = Request("main");
  r.idempotency_key = "a\nb";
  refused(r, "the idempotency key must be printable");
  r = Request("main");
  r.triggered_by = std::string(101, 't');
  refused(r, "triggered_by must be 1..100 bytes");
}

TEST(CommandsTest, AStartStepTakesTheLeasesAndTheKeyInTheSameWrite) {
  StartSyncRequest r = Request("both");
  r.idempotency_key = "key-1";
  r.max_pages = 3;
  r.items_per_page = 50;
  const Step step = StartStep(r, kAccounts, "g1", {"r1", "r2"}, "node-a");
  EXPECT_EQ(step.correlation_id, "start-g1");
  ASSERT_EQ(step.streams.size(), 2u);
  EXPECT_EQ(step.streams[0].stream_id, "run-r1");
  EXPECT_EQ(step.streams[0].expected_version, kNoStream);
  ASSERT_EQ(step.streams[1].events.size(), 1u);
  auto requested = DecodePayload<SyncRequested>(step.streams[1].events[0].payload_version, step.streams[1].events[0].payload);
  ASSERT_OK(requested);
  EXPECT_EQ(requested->account, "fbe");
  EXPECT_EQ(requested->group_id, "g1");
  EXPECT_EQ(requested->params.max_pages, 3u);
  EXPECT_EQ(requested->params.items_per_page, 50u);
  EXPECT_EQ(requested->idempotency_key, "key-1");
  // Each lease and the key must be absent, and are written by the step, with each run's owner.
  ASSERT_EQ(step.expect.size(), 3u);
  EXPECT_EQ(step.expect[0].key, LeaseKey("main"));
  EXPECT_FALSE(step.expect[0].value.has_value());
  EXPECT_EQ(step.expect[2].key, IdempotencyKey("key-1"));
  ASSERT_EQ(step.writes.size(), 5u);
  EXPECT_EQ(step.writes[1].key, OwnerKey("r1"));
  EXPECT_EQ(step.writes[1].value, "node-a");
  EXPECT_EQ(step.writes[2].key, LeaseKey("fbe"));
  EXPECT_EQ(step.writes[2].value, "r2");
  EXPECT_EQ(step.writes[3].key, OwnerKey("r2"));
  auto idem = DecodeFields<IdempotencyRecord>(*step.writes[4].value, "idempotency record");
  ASSERT_OK(idem);
  EXPECT_EQ(idem->run_ids, (std::vector<std::string>{"r1", "r2"}));
}

TEST(CommandsTest, ACancelStepNeedsTheRunToHoldItsAccount) {
  RunRecord record;
  record.id = "r9";
  record.account_type = "main";
  const Step step = CancelStep(record, "operator");
  ASSERT_EQ(step.streams.size(), 1u);
  EXPECT_EQ(step.streams[0].stream_id, "run-r9");
  ASSERT_EQ(step.expect.size(), 1u);
  EXPECT_EQ(step.expect[0].key, LeaseKey("main"));
  EXPECT_EQ(step.expect[0].value, "r9");
  EXPECT_TRUE(step.writes.empty());
}

}  // namespace
}  // namespace marketsync
