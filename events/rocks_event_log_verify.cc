#include "events/internal/rocks_event_log.h"

#include <algorithm>

#include "events/chain_check.h"
#include "events/envelope_codec.h"
#include "events/internal/rocks_keys.h"

namespace marketsync::internal {

Result<VerifyReport> RocksEventLog::Verify(uint64_t from_seq, uint64_t to_seq) const {
  from_seq = std::max<uint64_t>(from_seq, 1);
  const LogHead head = Head();
  const uint64_t last = to_seq == 0 ? head.seq : to_seq;
  ChainCheck check(options_.types, from_seq);
  if (from_seq > 1) {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), events_, EncodeSeqKey(from_seq - 1), &value);
    if (!s.ok() && !s.IsNotFound()) return FromRocks(s, "verify");
    if (!check.StartAfter(s.ok() ? std::optional<std::string_view>(value) : std::nullopt)) return check.report();
  }
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), events_));
  for (it->Seek(EncodeSeqKey(from_seq)); it->Valid(); it->Next()) {
    auto key_seq = DecodeSeqKey(std::string_view(it->key().data(), it->key().size()));
    if (!key_seq.ok()) {
      check.Fail(check.expected(), key_seq.status().message());
      break;
    }
    if (*key_seq > last) break;
    if (!check.Next(*key_seq, std::string_view(it->value().data(), it->value().size()))) break;
  }
  if (!it->status().ok()) return FromRocks(it->status(), "verify");
  return check.Finish(head, to_seq);
}

}  // namespace marketsync::internal
