#pragma once

// Change detection: a canonical form of an offer, hashed as a whole (created / updated /
// unchanged) and field by field (which fields an update changed).

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "engine/emag/offer.h"
#include "base/status.h"

namespace marketsync {

// The version of a product state row: bumped when Offer's field list changes or the stored
// form of a hash does. 3: the raw hash is RawTextHash (1 and 2 stored a SHA-256 there, which no
// text's RawTextHash equals: such a row's offer takes the fingerprint path once and is
// rewritten). 2: field hashes stored as u32 (1 stored the same CRC-32C values as u64).
inline constexpr uint32_t kFingerprintVersion = 3;

// The raw hash: 128-bit XXH3 of an offer's JSON text, in XXH3's canonical (big-endian) byte
// order. It only answers "is this the text this offer had last time?", which decides whether
// the fingerprint (and its SHA-256) is computed at all; it is never recorded in an event. Not
// a cryptographic hash: it guards against accident, not against a seller crafting two texts of
// one offer to collide (docs/decisions.md).
using RawHash = std::array<char, 16>;
RawHash RawTextHash(std::string_view text);

struct OfferFingerprint {
  std::string content_hash;           // SHA-256 of the canonical form, 32 raw bytes
  std::vector<uint32_t> field_hashes; // CRC-32C, one per field of Offer::Visit, in its order
};

// Canonical form: the typed fields (so "42" and 42 are the same value), each length-prefixed
// and tagged with its name. Lenient parsing has already normalised what eMAG varies.
OfferFingerprint Fingerprint(const emag::Offer& offer);

// Names of the fields whose hashes differ; all fields when the layouts differ in size.
std::vector<std::string> ChangedFields(const std::vector<uint32_t>& before,
                                       const std::vector<uint32_t>& after);

// What the engine keeps per (account, offer id) in its `engine_products` column family.
struct ProductState {
  uint32_t fingerprint_version = kFingerprintVersion;
  std::string raw_hash;      // RawTextHash of the offer's JSON text: equal text needs no fingerprint
  std::string content_hash;
  std::string part_number;
  std::vector<uint32_t> field_hashes;
  std::string last_run_id;
};

// A row's fields as views, for encoding without building a ProductState.
struct ProductStateView {
  std::string_view raw_hash;
  std::string_view content_hash;
  std::string_view part_number;
  const std::vector<uint32_t>& field_hashes;
  std::string_view last_run_id;
};

// The row's layout is documented in offer_fingerprint.cc. Decode errors: kCorruption.
std::string EncodeProductState(const ProductStateView& state);
std::string EncodeProductState(const ProductState& state);
Result<ProductState> DecodeProductState(std::string_view bytes);
// Fields of a stored row read in place, for the per-offer checks that need one field (the raw
// hash of every offer of a re-sync, the part number of every offer at the end of a run): views
// into `bytes`. Errors: kCorruption when the row is too short to hold the field.
Result<std::string_view> StoredRawHash(std::string_view bytes);
Result<std::string_view> StoredPartNumber(std::string_view bytes);

// Lower-case hex of raw bytes.
std::string ToHex(std::string_view bytes);

}  // namespace marketsync
