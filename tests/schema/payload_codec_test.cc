#include "schema/payload_codec.h"

#include <gtest/gtest.h>

#include "schema/event_type.h"
#include "schema/sync_events.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

SyncCompletedWithGaps SamplePayload() {
  SyncCompletedWithGaps p;
  p.totals.processed = 1200;
  p.totals.created = 1100;
  p.totals.updated = 100;
  p.totals.pages_processed = 12;
  p.totals.pages_failed = 1;
  p.missing_pages = {7};
  p.total_items_at_end = 1275;
  p.count_changed = true;
  p.duplicate_part_numbers.push_back({"SKU-1", {10, 11}});
  return p;
}

TEST(PayloadCodecTest, RoundTripsNestedFields) {
  const auto p = SamplePayload();
  auto d = DecodePayload<SyncCompletedWithGaps>(1, EncodePayload(p));
  ASSERT_OK(d);
  EXPECT_EQ(d->totals.processed, 1200u);
  EXPECT_EQ(d->totals.pages_failed, 1u);
  EXPECT_EQ(d->missing_pages, std::vector<uint32_t>{7});
  EXPECT_TRUE(d->count_changed);
  ASSERT_EQ(d->duplicate_part_numbers.size(), 1u);
  EXPECT_EQ(d->duplicate_part_numbers[0].part_number, "SKU-1");
  EXPECT_EQ(d->duplicate_part_numbers[0].offer_ids, (std::vector<uint64_t>{10, 11}));
}

TEST(PayloadCodecTest, WritesExactlyWhatCerealWrites) {
  const auto p = SamplePayload();
  EXPECT_EQ(EncodeFields(p), EncodeFieldsWithCereal(p));
  ProductUpdated u;
  u.account = "main";
  u.offer_id = 4294967295u;
  u.changed_fields = {"sale_price", "stock"};
  u.raw_json = std::string(5000, 'j');
  EXPECT_EQ(EncodePayload(u), EncodeFieldsWithCereal(u));
  SyncRequested r;
  r.params.include_inactive = true;
  r.params.max_pages = 7;
  EXPECT_EQ(EncodePayload(r), EncodeFieldsWithCereal(r));
}

// The encoder reserves what the sizer counts: a count that is short costs a reallocation, one
// that is long wastes memory in every event held in a batch.
TEST(PayloadCodecTest, TheSizerCountsExactlyWhatTheWriterWrites) {
  auto exact = [](const auto& value) {
    payload_internal::PortableSizer sizer;
    payload_internal::WriteField(sizer, value);
    EXPECT_EQ(sizer.bytes(), EncodeFieldsWithCereal(value).size());
  };
  exact(SamplePayload());
  ProductCreated c;
  c.account = "main";
  c.raw_json = std::string(1700, 'j');
  c.summary.name = "Aspirator";
  exact(c);
  exact(SyncRequested{});
  exact(PageCommitted{.page = 3, .items = 2, .offer_ids = {1, 2}});
}

TEST(PayloadCodecTest, ReadsExactlyWhatCerealReads) {
  auto same = [](const auto& value) {
    using T = std::decay_t<decltype(value)>;
    const std::string bytes = EncodeFields(value);
    auto ours = DecodeFields<T>(bytes, "ours");
    auto theirs = DecodeFieldsWithCereal<T>(bytes, "cereal");
    ASSERT_OK(ours);
    ASSERT_OK(theirs);
    EXPECT_EQ(EncodeFields(*ours), EncodeFields(*theirs));
    EXPECT_EQ(EncodeFields(*ours), bytes);
    // Every truncation fails on both paths.
    for (size_t n = 0; n < bytes.size(); n += 7) {
      EXPECT_FALSE(DecodeFields<T>(bytes.substr(0, n), "ours").ok()) << n;
      EXPECT_FALSE(DecodeFieldsWithCereal<T>(bytes.substr(0, n), "cereal").ok()) << n;
    }
  };
  same(SamplePayload());
  ProductUpdated u;
  u.account = "fbe";
  u.offer_id = 77;
  u.changed_fields = {"name", "stock"};
  u.raw_json = R"({"id":77})";
  u.summary = {"SKU-77", "Ceainic", "12.5", "RON", 3, 1};
  same(u);
  SyncRequested r;
  r.params.include_inactive = true;
  same(r);
  SyncStarted st;
  st.attempt = 2;
  st.awaiting_count = true;
  same(st);
  SyncCounted c;
  c.total_items = 1275;
  c.total_pages = 13;
  c.requests = 2;
  c.retries = 1;
  same(c);
}

TEST(PayloadCodecTest, OlderVersionsDecodeIntoTheirFirstFields) {
  // A v1 ProductCreated: the five fields before the summary existed.
  ProductCreated v2;
  v2.account = "main";
  v2.offer_id = 9;
  v2.run_id = "r";
  v2.content_hash = "h";
  v2.raw_json = "{}";
  v2.summary.name = "dropped";
  std::string v1 = EncodeFields(v2);
  v1.resize(v1.size() - EncodeFields(v2.summary).size() + 1);  // the summary's bytes (after the tag) cut off
  auto d = DecodePayload<ProductCreated>(1, v1);
  ASSERT_OK(d);
  EXPECT_EQ(d->raw_json, "{}");
  EXPECT_TRUE(d->summary.name.empty());
  EXPECT_FALSE(DecodePayload<ProductCreated>(2, v1).ok());  // v2 needs the summary
}

TEST(PayloadCodecTest, AVersion1SyncStartedCarriedItsTotals) {
  SyncStarted v2;
  v2.total_items = 1275;
  v2.total_pages = 13;
  v2.awaiting_count = true;
  std::string v1 = EncodePayload(v2);
  v1.pop_back();  // the awaiting_count byte, which v1 did not have
  auto d = DecodePayload<SyncStarted>(1, v1);
  ASSERT_OK(d);
  EXPECT_EQ(d->total_pages, 13u);
  EXPECT_FALSE(d->awaiting_count);
  // Rendered for auditors as what it held: no field it did not have.
  auto json = FindEventType(static_cast<uint16_t>(EventType::kSyncStarted))->payload_to_json(1, v1);
  ASSERT_OK(json);
  EXPECT_EQ(*json, R"({"attempt":1,"total_items":1275,"total_pages":13,"items_per_page":0})");
  auto now = DecodePayload<SyncStarted>(2, EncodePayload(v2));
  ASSERT_OK(now);
  EXPECT_TRUE(now->awaiting_count);
}

TEST(PayloadCodecTest, TruncatedOrTrailingBytesAreCorruption) {
  const std::string bytes = EncodePayload(SamplePayload());
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto d = DecodePayload<SyncCompletedWithGaps>(1, bytes.substr(0, n));
    ASSERT_FALSE(d.ok()) << n;
    EXPECT_TRUE(d.status().IsCorruption());
  }
  auto d = DecodePayload<SyncCompletedWithGaps>(1, bytes + "x");
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsCorruption());
}

TEST(PayloadCodecTest, HugeLengthFailsWithoutAllocating) {
  // A SyncFailed whose first string length says 2^60 bytes.
  SyncFailed p;
  p.message = "m";
  std::string bytes = EncodePayload(p);
  // totals = 11 u64/u32 fields; error_class length follows them. Overwrite it.
  const size_t at = 8 * 9 + 4 * 2;
  bytes.replace(at + 1, 8, std::string("\0\0\0\0\0\0\0\x10", 8));
  auto d = DecodePayload<SyncFailed>(1, bytes);
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsCorruption());
}

TEST(PayloadCodecTest, UnknownVersionIsCorruption) {
  auto d = DecodePayload<SyncFailed>(2, EncodePayload(SyncFailed{}));
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("unknown payload version 2"), std::string::npos);
}

TEST(EventTypeRegistryTest, EveryTypeHasANameAndRendersJson) {
  ASSERT_EQ(AllEventTypes().size(), 18u);
  for (const auto& info : AllEventTypes()) {
    EXPECT_EQ(FindEventTypeByName(info.name), &info);
    EXPECT_EQ(FindEventType(static_cast<uint16_t>(info.type)), &info);
  }
  EXPECT_EQ(FindEventType(0), nullptr);
  EXPECT_EQ(FindEventType(999), nullptr);
  EXPECT_EQ(EventTypeName(999), "Unknown(999)");
}

TEST(EventTypeRegistryTest, RendersPayloadAsJson) {
  const EventTypeInfo* info = FindEventType(static_cast<uint16_t>(EventType::kSyncCompletedWithGaps));
  ASSERT_NE(info, nullptr);
  auto json = info->payload_to_json(1, EncodePayload(SamplePayload()));
  ASSERT_OK(json);
  EXPECT_NE(json->find("\"missing_pages\":[7]"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"count_changed\":true"), std::string::npos) << *json;
  EXPECT_NE(json->find("\"part_number\":\"SKU-1\""), std::string::npos) << *json;
  EXPECT_NE(json->find("\"created\":1100"), std::string::npos) << *json;
  EXPECT_FALSE(info->payload_to_json(1, "garbage").ok());
}

}  // namespace
}  // namespace marketsync
