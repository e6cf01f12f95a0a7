#include "projections/accounts.h"

#include "schema/payload_codec.h"
#include "schema/stream_ids.h"

namespace marketsync {

Status ApplyAccountEvent(AccountRecord& r, const Envelope& e) {
  switch (static_cast<EventType>(e.type)) {
    case EventType::kAccountAdded: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<AccountAdded>(e.payload_version, e.payload));
      r = AccountRecord{};
      r.name = std::move(p.name);
      r.settings = std::move(p.settings);
      r.added_at_us = e.recorded_at_us;
      r.changed_by = std::move(p.by);
      break;
    }
    case EventType::kAccountChanged: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<AccountChanged>(e.payload_version, e.payload));
      r.settings = std::move(p.settings);
      r.changed_by = std::move(p.by);
      break;
    }
    case EventType::kAccountRemoved: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<AccountRemoved>(e.payload_version, e.payload));
      r.removed = true;
      r.mirror_purged = p.mirror_purged;
      r.changed_by = std::move(p.by);
      break;
    }
    default: return Status::Ok();
  }
  r.changed_at_us = e.recorded_at_us;
  r.version = e.stream_version;
  return Status::Ok();
}

Status AccountsProjection::Apply(const Envelope& event, ProjectionStore& store) {
  if (!IsAccountStream(event.stream_id)) return Status::Ok();
  const std::string name = event.stream_id.substr(kAccountStreamPrefix.size());
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(kFamily, name));
  AccountRecord record;
  if (stored) {
    MS_ASSIGN_OR_RETURN(record, DecodeFields<AccountRecord>(*stored, "accounts row of " + name));
  }
  MS_RETURN_IF_ERROR(ApplyAccountEvent(record, event));
  return store.Put(kFamily, name, EncodeFields(record));
}

Result<std::vector<AccountRecord>> ListAccounts(const KvReader& reader) {
  std::vector<AccountRecord> out;
  MS_ASSIGN_OR_RETURN(auto it, reader.Scan(AccountsProjection::kFamily));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    MS_ASSIGN_OR_RETURN(auto r, DecodeFields<AccountRecord>(it->value(), "accounts row of " + std::string(it->key())));
    out.push_back(std::move(r));
  }
  MS_RETURN_IF_ERROR(it->status());
  return out;
}

Result<std::optional<AccountRecord>> FindAccount(const KvReader& reader, std::string_view name) {
  MS_ASSIGN_OR_RETURN(auto stored, reader.Get(AccountsProjection::kFamily, name));
  if (!stored) return std::optional<AccountRecord>();
  MS_ASSIGN_OR_RETURN(auto r, DecodeFields<AccountRecord>(*stored, "accounts row of " + std::string(name)));
  return std::optional<AccountRecord>(std::move(r));
}

}  // namespace marketsync
