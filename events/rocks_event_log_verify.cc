#include "events/internal/rocks_event_log.h"

#include <algorithm>

#include "events/envelope_codec.h"
#include "events/internal/rocks_keys.h"

namespace marketsync::internal {

Result<VerifyReport> RocksEventLog::Verify(uint64_t from_seq, uint64_t to_seq) const {
  VerifyReport report;
  auto bad = [&report](uint64_t seq, std::string why) {
    report.ok = false;
    report.first_bad_seq = seq;
    report.reason = std::move(why);
    return report;
  };
  from_seq = std::max<uint64_t>(from_seq, 1);
  const LogHead head = Head();
  const uint64_t last = to_seq == 0 ? head.seq : to_seq;
  Hash256 prev{};
  if (from_seq > 1) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_, EncodeSeqKey(from_seq - 1), &value);
    if (s.IsNotFound()) return bad(from_seq - 1, "missing (gap)");
    if (!s.ok()) return FromRocks(s, "verify");
    auto e = DecodeEnvelope(value, from_seq - 1, options_.types);
    if (!e.ok()) return bad(from_seq - 1, e.status().message());
    prev = e->hash;
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  uint64_t expected = from_seq;
  for (it->Seek(EncodeSeqKey(from_seq)); it->Valid(); it->Next()) {
    std::string_view key(it->key().data(), it->key().size());
    std::string_view value(it->value().data(), it->value().size());
    auto key_seq = DecodeSeqKey(key);
    if (!key_seq.ok()) return bad(expected, key_seq.status().message());
    if (*key_seq > last) break;
    if (*key_seq != expected) return bad(expected, "missing (gap): next stored event is seq " + std::to_string(*key_seq));
    auto e = DecodeEnvelope(value, *key_seq, options_.types);
    if (!e.ok()) return bad(*key_seq, e.status().message());
    if (e->seq != *key_seq) {
      return bad(*key_seq, "out of order: the envelope stored here is seq " + std::to_string(e->seq));
    }
    if (e->prev_hash != prev) return bad(*key_seq, "chain break: previous hash does not match seq " + std::to_string(*key_seq - 1));
    if (ComputeStoredBodyHash(value) != e->hash) return bad(*key_seq, "hash mismatch: the envelope was altered");
    prev = e->hash;
    ++report.events_checked;
    ++expected;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "verify");
  if (to_seq == 0 || to_seq >= head.seq) {
    if (expected - 1 < head.seq) return bad(expected, "missing: the head says the log ends at seq " + std::to_string(head.seq));
    if (head.seq > 0 && prev != head.hash) return bad(head.seq, "the head hash does not match the last event");
  } else if (expected - 1 < last) {
    return bad(expected, "missing (gap)");
  }
  return report;
}

}  // namespace marketsync::internal
