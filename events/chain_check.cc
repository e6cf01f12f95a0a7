#include "events/chain_check.h"

#include <algorithm>

#include "events/envelope_codec.h"

namespace marketsync {

ChainCheck::ChainCheck(const EventTypeRegistry& types, uint64_t from_seq)
    : types_(types), expected_(std::max<uint64_t>(from_seq, 1)) {}

bool ChainCheck::StartAfter(const std::optional<std::string_view>& stored_before) {
  if (expected_ == 1) return true;  // nothing before seq 1: it chains from zeros
  const uint64_t before = expected_ - 1;
  if (!stored_before) {
    Fail(before, "missing (gap)");
    return false;
  }
  auto e = DecodeEnvelope(*stored_before, before, types_);
  if (!e.ok()) {
    Fail(before, e.status().message());
    return false;
  }
  prev_ = e->hash;
  return true;
}

void ChainCheck::Fail(uint64_t seq, std::string why) {
  if (!report_.ok) return;  // the first finding stands
  report_.ok = false;
  report_.first_bad_seq = seq;
  report_.reason = std::move(why);
}

bool ChainCheck::Next(uint64_t key_seq, std::string_view bytes) {
  if (!report_.ok) return false;
  if (key_seq != expected_) {
    Fail(expected_, "missing (gap): next stored event is seq " + std::to_string(key_seq));
    return false;
  }
  auto e = DecodeEnvelope(bytes, key_seq, types_);
  if (!e.ok()) {
    Fail(key_seq, e.status().message());
    return false;
  }
  if (e->seq != key_seq) {
    Fail(key_seq, "out of order: the envelope stored here is seq " + std::to_string(e->seq));
    return false;
  }
  if (e->prev_hash != prev_) {
    Fail(key_seq, "chain break: previous hash does not match seq " + std::to_string(key_seq - 1));
    return false;
  }
  if (ComputeStoredBodyHash(bytes) != e->hash) {
    Fail(key_seq, "hash mismatch: the envelope was altered");
    return false;
  }
  prev_ = e->hash;
  ++report_.events_checked;
  ++expected_;
  return true;
}

VerifyReport ChainCheck::Finish(const LogHead& head, uint64_t to_seq) {
  if (!report_.ok) return report_;
  const uint64_t last = to_seq == 0 ? head.seq : to_seq;
  if (to_seq == 0 || to_seq >= head.seq) {
    if (expected_ - 1 < head.seq) {
      Fail(expected_, "missing: the head says the log ends at seq " + std::to_string(head.seq));
    } else if (head.seq > 0 && prev_ != head.hash) {
      Fail(head.seq, "the head hash does not match the last event");
    }
  } else if (expected_ - 1 < last) {
    Fail(expected_, "missing (gap)");
  }
  return report_;
}

}  // namespace marketsync
