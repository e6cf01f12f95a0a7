#include "engine/offer_fingerprint.h"

#include <gtest/gtest.h>

#include <set>

#include "engine/emag/response_parser.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync {
namespace {

emag::Offer Parse(const std::string& json) {
  auto page = emag::ParseReadResponse(R"({"isError":false,"results":[)" + json + "]}");
  EXPECT_TRUE(page.ok()) << page.status().ToString();
  return page.ok() ? page->offers.at(0) : emag::Offer{};
}

// Stored rows hold content hashes and field hashes of fingerprint version 2's canonical form:
// a faster way of computing it must give the same bytes. Pinned from the form's first
// implementation.
TEST(OfferFingerprintTest, CanonicalFormIsStable) {
  auto fp = Fingerprint(Parse(R"({"id": 77, "name": "Laptop X", "part_number": "SKU-77", "sale_price": "42.0100",
      "status": 1, "general_stock": 3, "stock": [{"warehouse_id": 1, "value": 5}], "images": [{"url": "u", "display_type": 1}],
      "vat_id": 9, "currency": "RON", "ownership": 1})"));
  EXPECT_EQ(ToHex(fp.content_hash), "168c7203c759be51ab33dd4b0844789dcb2a7eba41b79a245f410265308573ec");
  uint64_t sum = 0;
  for (size_t i = 0; i < fp.field_hashes.size(); ++i) sum = sum * 31 + fp.field_hashes[i];
  EXPECT_EQ(fp.field_hashes.size(), 39u);
  EXPECT_EQ(sum, 3113139074746623960ull);
}

TEST(OfferFingerprintTest, SameValueInAnotherSpellingIsUnchanged) {
  auto a = Fingerprint(Parse(R"({"id": 1, "sale_price": "42.0100", "stock": [{"warehouse_id": 1, "value": 5}], "ownership": 1})"));
  auto b = Fingerprint(Parse(R"({"ownership": true, "stock": [{"value": "5", "warehouse_id": "1"}], "sale_price": 42.01, "id": "1"})"));
  EXPECT_EQ(a.content_hash, b.content_hash);
  EXPECT_EQ(a.field_hashes, b.field_hashes);
  EXPECT_EQ(a.content_hash.size(), 32u);
}

TEST(OfferFingerprintTest, NamesTheFieldsThatChanged) {
  auto before = Fingerprint(Parse(R"({"id": 1, "sale_price": "42.01", "general_stock": 3, "name": "A"})"));
  auto after = Fingerprint(Parse(R"({"id": 1, "sale_price": "43.01", "general_stock": 3, "name": "B"})"));
  EXPECT_NE(before.content_hash, after.content_hash);
  EXPECT_EQ(ChangedFields(before.field_hashes, after.field_hashes), (std::vector<std::string>{"name", "sale_price"}));
  EXPECT_TRUE(ChangedFields(before.field_hashes, before.field_hashes).empty());
}

TEST(OfferFingerprintTest, ProductStateRoundTrips) {
  ProductState s;
  s.content_hash = std::string(32, '\x07');
  s.part_number = "SKU-1";
  s.field_hashes = {1, 2, 3};
  s.last_run_id = "r1";
  auto d = DecodeProductState(EncodeProductState(s));
  ASSERT_OK(d);
  EXPECT_EQ(d->content_hash, s.content_hash);
  EXPECT_EQ(d->field_hashes, s.field_hashes);
  EXPECT_EQ(d->part_number, "SKU-1");
  EXPECT_FALSE(DecodeProductState("\x01\x02").ok());
}

// The row's bytes (the grammar in offer_fingerprint.cc): version 3 written now, and rows of
// versions 1 and 2, already on disk, still read as the same state.
TEST(OfferFingerprintTest, ProductStateRowLayoutIsStable) {
  ProductState s;
  s.raw_hash = std::string(32, '\x05');
  s.content_hash = std::string(20, '\x07');  // shorter than 32: padded with zeros
  s.part_number = "SKU-1";
  s.field_hashes = {1, 0x01020304};
  s.last_run_id = "r1";
  auto row = [&](char version, const std::string& hashes) {
    std::string r(1, version);
    r += std::string(32, '\x05');
    r += std::string(20, '\x07') + std::string(12, '\0');
    r += std::string("\x05\x00", 2) + "SKU-1";
    r += std::string("\x02\x00", 2) + hashes;
    r += std::string("\x02\x00", 2) + "r1";
    return r;
  };
  const std::string v3 = row('\x03', std::string("\x01\x00\x00\x00\x04\x03\x02\x01", 8));
  const std::string v2 = row('\x02', std::string("\x01\x00\x00\x00\x04\x03\x02\x01", 8));
  const std::string v1 = row('\x01', std::string("\x01\x00\x00\x00\x00\x00\x00\x00\x04\x03\x02\x01\x00\x00\x00\x00", 16));
  EXPECT_EQ(EncodeProductState(s), v3);
  for (const std::string& stored : {v1, v2, v3}) {
    auto d = DecodeProductState(stored);
    ASSERT_OK(d);
    EXPECT_EQ(d->raw_hash, s.raw_hash);
    EXPECT_EQ(d->field_hashes, s.field_hashes);
    EXPECT_EQ(d->last_run_id, "r1");
    EXPECT_EQ(*StoredRawHash(stored), s.raw_hash);
    EXPECT_EQ(*StoredPartNumber(stored), "SKU-1");
  }
  std::string unknown = v3;
  unknown[0] = '\x04';
  EXPECT_FALSE(DecodeProductState(unknown).ok());
}

// Stored rows hold raw hashes: the same text must hash to the same bytes in every build (a
// changed function would send every offer of the next sync down the fingerprint path). Pinned
// from the first implementation (XXH3-128, canonical byte order).
TEST(OfferFingerprintTest, RawTextHashIsStable) {
  auto hex = [](const RawHash& h) { return ToHex(std::string_view(h.data(), h.size())); };
  EXPECT_EQ(hex(RawTextHash("")), "99aa06d3014798d86001c324468d497f");
  EXPECT_EQ(hex(RawTextHash(R"({"id":77,"name":"Laptop X"})")), "e10f4f6ca80ec0786e61945aded235dc");
}

// Any one-byte difference, anywhere in an offer-sized text, and any length difference, is a
// different raw hash (else an edit would go unrecorded).
TEST(OfferFingerprintTest, RawTextHashSeesEveryByte) {
  std::string text;
  for (int i = 0; text.size() < 2000; ++i) text += R"({"id":)" + std::to_string(i) + R"(,"name":"Laptop X"},)";
  const RawHash base = RawTextHash(text);
  EXPECT_EQ(RawTextHash(text), base);
  std::set<RawHash> seen{base};
  for (size_t at = 0; at < text.size(); ++at) {
    std::string edited = text;
    edited[at] ^= 0x01;
    EXPECT_TRUE(seen.insert(RawTextHash(edited)).second) << "byte " << at;
  }
  for (size_t n = 0; n < text.size(); ++n) {
    EXPECT_TRUE(seen.insert(RawTextHash(std::string_view(text).substr(0, n))).second) << "prefix " << n;
  }
}

}  // namespace
}  // namespace marketsync
