#include "events/envelope_codec.h"

#include <gtest/gtest.h>

#include <vector>

#include "base/coding.h"
#include "base/crc32c.h"
#include "tests/testutil/log_fixtures.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

Envelope Sample() {
  Envelope e;
  e.seq = 42;
  e.stream_id = "run-abc";
  e.stream_version = 7;
  e.type = testing::kTestEventType;
  e.payload_version = 1;
  e.recorded_at_us = 1'764'000'000'123'456;
  e.correlation_id = "cmd-1";
  e.payload = std::string("\x00\x01\x02payload\xff", 11);
  for (size_t i = 0; i < e.prev_hash.size(); ++i) e.prev_hash[i] = static_cast<uint8_t>(i * 7);
  return e;
}

std::string Encoded(Envelope& e) {
  std::string out;
  SealAndEncodeEnvelope(e, &out);
  return out;
}

// Rewrites the checksum so a deliberate change reaches the checks behind it.
void Reseal(std::string& bytes) {
  bytes.resize(bytes.size() - 4);
  internal::PutFixedLE<uint32_t>(&bytes, Crc32c(bytes.data(), bytes.size()));
}

TEST(EnvelopeCodecTest, RoundTripsEveryField) {
  Envelope e = Sample();
  std::string bytes = Encoded(e);
  auto d = DecodeEnvelope(bytes, 42, testing::TestEventTypes());
  ASSERT_OK(d);
  EXPECT_EQ(*d, e);
  EXPECT_EQ(d->format_version, kEnvelopeFormatVersion);
  EXPECT_EQ(d->seq, 42u);
  EXPECT_EQ(d->stream_id, "run-abc");
  EXPECT_EQ(d->stream_version, 7u);
  EXPECT_EQ(d->type, testing::kTestEventType);
  EXPECT_EQ(d->payload_version, 1);
  EXPECT_EQ(d->recorded_at_us, 1'764'000'000'123'456);
  EXPECT_EQ(d->correlation_id, "cmd-1");
  EXPECT_EQ(d->payload, e.payload);
  EXPECT_EQ(d->prev_hash, e.prev_hash);
  EXPECT_EQ(d->hash, e.hash);
  EXPECT_EQ(ComputeStoredBodyHash(bytes), e.hash);
}

TEST(EnvelopeCodecTest, HashDependsOnEveryField) {
  Envelope base = Sample();
  Encoded(base);
  auto differs = [&](auto mutate) {
    Envelope e = Sample();
    mutate(e);
    Encoded(e);
    return e.hash != base.hash;
  };
  EXPECT_TRUE(differs([](Envelope& e) { e.seq++; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.stream_id += "x"; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.stream_version++; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.type++; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.recorded_at_us++; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.correlation_id = "other"; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.payload[0] ^= 1; }));
  EXPECT_TRUE(differs([](Envelope& e) { e.prev_hash[31] ^= 1; }));
}

TEST(EnvelopeCodecTest, RejectsEveryTruncation) {
  Envelope e = Sample();
  std::string bytes = Encoded(e);
  for (size_t n = 0; n < bytes.size(); ++n) {
    auto d = DecodeEnvelope(std::string_view(bytes).substr(0, n), 42, testing::TestEventTypes());
    ASSERT_FALSE(d.ok()) << "length " << n;
    EXPECT_TRUE(d.status().IsCorruption());
    EXPECT_NE(d.status().message().find("seq 42"), std::string::npos) << d.status().ToString();
  }
}

TEST(EnvelopeCodecTest, RejectsEveryFlippedBit) {
  Envelope e = Sample();
  const std::string bytes = Encoded(e);
  for (size_t i = 0; i < bytes.size() * 8; ++i) {
    std::string bad = bytes;
    bad[i / 8] = static_cast<char>(bad[i / 8] ^ (1 << (i % 8)));
    auto d = DecodeEnvelope(bad, 42, testing::TestEventTypes());
    ASSERT_FALSE(d.ok()) << "bit " << i;
    EXPECT_TRUE(d.status().IsCorruption());
  }
}

TEST(EnvelopeCodecTest, RejectsUnknownType) {
  Envelope e = Sample();
  std::string bytes = Encoded(e);
  bytes[1] = static_cast<char>(0xEE);  // type, low byte
  bytes[2] = static_cast<char>(0x7F);
  Reseal(bytes);
  auto d = DecodeEnvelope(bytes, 42, testing::TestEventTypes());
  ASSERT_FALSE(d.ok());
  EXPECT_TRUE(d.status().IsCorruption());
  EXPECT_NE(d.status().message().find("unknown event type"), std::string::npos) << d.status().ToString();
}

TEST(EnvelopeCodecTest, RejectsUnknownFormatVersion) {
  Envelope e = Sample();
  std::string bytes = Encoded(e);
  bytes[0] = 2;
  Reseal(bytes);
  auto d = DecodeEnvelope(bytes, 42, testing::TestEventTypes());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("unknown format version 2"), std::string::npos);
}

TEST(EnvelopeCodecTest, RejectsUnknownPayloadVersion) {
  Envelope e = Sample();
  std::string bytes = Encoded(e);
  bytes[3] = 9;
  Reseal(bytes);
  auto d = DecodeEnvelope(bytes, 42, testing::TestEventTypes());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("unknown payload version 9"), std::string::npos);
}

TEST(EnvelopeCodecTest, RejectsWrongLength) {
  Envelope e = Sample();
  const std::string bytes = Encoded(e);
  // The stream id length field sits after the 29-byte fixed header.
  for (uint32_t len : {0u, 6u, 8u, 1000u, 0xFFFFFFFFu}) {
    std::string bad = bytes;
    std::string field;
    internal::PutFixedLE<uint32_t>(&field, len);
    bad.replace(29, 4, field);
    Reseal(bad);
    auto d = DecodeEnvelope(bad, 42, testing::TestEventTypes());
    ASSERT_FALSE(d.ok()) << len;
    EXPECT_TRUE(d.status().IsCorruption());
  }
  std::string longer = bytes;
  longer.insert(longer.size() - 36, "zz");
  Reseal(longer);
  auto d = DecodeEnvelope(longer, 42, testing::TestEventTypes());
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("wrong length"), std::string::npos) << d.status().ToString();
}

TEST(EnvelopeCodecTest, ValidatesFieldsAWriterControls) {
  Envelope e = Sample();
  EXPECT_OK(ValidateEnvelopeFields(e, testing::TestEventTypes()));
  e.stream_id = "";
  EXPECT_EQ(ValidateEnvelopeFields(e, testing::TestEventTypes()).code(), Status::Code::kInvalidArgument);
  e.stream_id = std::string("a\0b", 3);
  EXPECT_EQ(ValidateEnvelopeFields(e, testing::TestEventTypes()).code(), Status::Code::kInvalidArgument);
  e = Sample();
  e.type = 999;
  EXPECT_EQ(ValidateEnvelopeFields(e, testing::TestEventTypes()).code(), Status::Code::kInvalidArgument);
  e = Sample();
  e.payload_version = 0;
  EXPECT_EQ(ValidateEnvelopeFields(e, testing::TestEventTypes()).code(), Status::Code::kInvalidArgument);
}

TEST(EnvelopeCodecTest, SeqKeysSortNumerically) {
  EXPECT_LT(EncodeSeqKey(255), EncodeSeqKey(256));
  EXPECT_LT(EncodeSeqKey(1), EncodeSeqKey(UINT64_MAX));
  auto k = DecodeSeqKey(EncodeSeqKey(123456789));
  ASSERT_OK(k);
  EXPECT_EQ(*k, 123456789u);
  EXPECT_FALSE(DecodeSeqKey("short").ok());
}

TEST(Crc32cTest, MatchesKnownValues) {
  // RFC 3720 test vectors.
  std::string zeros(32, '\0');
  EXPECT_EQ(Crc32c(zeros.data(), zeros.size()), 0x8A9136AAu);
  std::string ones(32, '\xff');
  EXPECT_EQ(Crc32c(ones.data(), ones.size()), 0x62A8AB43u);
  EXPECT_EQ(Crc32c("123456789", 9), 0xE3069283u);
}

// A bit at a time, straight from the definition: the reference for the fast paths (three
// interleaved streams joined by carry-less multiplies, one stream, a table).
uint32_t BitwiseCrc32c(const uint8_t* p, size_t n, uint32_t crc) {
  crc = ~crc;
  for (size_t i = 0; i < n; ++i) {
    crc ^= p[i];
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0x82F63B78u : crc >> 1;
  }
  return ~crc;
}

// Every length across the block sizes the fast path switches at (192 and 768 bytes), at every
// alignment, and continued from a previous CRC as the envelope codec does.
TEST(Crc32cTest, EqualsTheDefinitionAtEveryLengthAndAlignment) {
  std::vector<uint8_t> data(5000);
  uint32_t x = 12345;
  for (auto& b : data) b = static_cast<uint8_t>((x = x * 1103515245u + 12345u) >> 16);
  for (size_t offset = 0; offset < 8; ++offset) {
    for (size_t n = 0; n + offset <= 2400; n += (n < 800 ? 1 : 7)) {
      ASSERT_EQ(Crc32c(data.data() + offset, n), BitwiseCrc32c(data.data() + offset, n, 0)) << n << " at " << offset;
    }
  }
  for (size_t split : {0, 1, 191, 768, 2000, 5000}) {
    EXPECT_EQ(Crc32c(data.data() + split, data.size() - split, Crc32c(data.data(), split)),
              BitwiseCrc32c(data.data(), data.size(), 0)) << split;
  }
}

// The log is generic: the same bytes decode under a registry that has their type and are
// refused by one that does not, and a writer's registry decides what may be appended.
TEST(EnvelopeCodecTest, TheRegistryDecidesWhichTypesAreKnown) {
  Envelope e = Sample();
  e.type = 7;
  const EventTypeRegistry knows({{7, "Seventh", 1}});
  const EventTypeRegistry lacks({{8, "Eighth", 3}});
  EXPECT_OK(ValidateEnvelopeFields(e, knows));
  EXPECT_EQ(ValidateEnvelopeFields(e, lacks).code(), Status::Code::kInvalidArgument);
  std::string bytes;
  SealAndEncodeEnvelope(e, &bytes);
  EXPECT_OK(DecodeEnvelope(bytes, 42, knows));
  auto refused = DecodeEnvelope(bytes, 42, lacks);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("seq 42: unknown event type 7"), std::string::npos);
}

TEST(EventTypeRegistryTest, ValidateRefusesWhatCannotBeStored) {
  EXPECT_EQ(EventTypeRegistry().Validate().code(), Status::Code::kInvalidArgument);
  EXPECT_NE(EventTypeRegistry().Validate().message().find("no event types registered"), std::string::npos);
  EXPECT_FALSE(EventTypeRegistry({{0, "Zero", 1}}).Validate().ok());
  EXPECT_FALSE(EventTypeRegistry({{1, "A", 1}, {1, "B", 1}}).Validate().ok());
  EXPECT_FALSE(EventTypeRegistry({{1, "A", 0}}).Validate().ok());
  const EventTypeRegistry ok({{3, "C", 1}, {1, "A", 2}});
  EXPECT_OK(ok.Validate());
  ASSERT_NE(ok.Find(1), nullptr);
  EXPECT_EQ(ok.Find(1)->current_version, 2);
  EXPECT_EQ(ok.Find(2), nullptr);
  EXPECT_EQ(ok.FindByName("C")->id, 3);
  EXPECT_EQ(ok.Name(9), "Unknown(9)");
  EXPECT_EQ(ok.all().front().id, 1);  // in id order
}

}  // namespace
}  // namespace marketsync
