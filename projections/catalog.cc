#include "projections/catalog.h"

#include <algorithm>
#include <cctype>
#include <map>

#include "events/key_coding.h"
#include "events/payload_codec.h"

namespace marketsync {
namespace {

std::string OfferKey(std::string_view account, uint64_t offer_id) {
  std::string k(account);
  k.push_back('\0');
  PutFixed64BE(&k, offer_id);
  return k;
}

std::string ChangeKey(uint64_t seq, std::string_view offer_key) {
  std::string k;
  k.reserve(8 + offer_key.size());
  PutFixed64BE(&k, seq);
  k.append(offer_key);
  return k;
}

Status AddToCount(ProjectionStore& store, std::string_view account, int64_t delta) {
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(CatalogProjection::kCounts, account));
  uint64_t n = stored && stored->size() == 8 ? GetFixed64BE(stored->data()) : 0;
  n = delta < 0 && n < static_cast<uint64_t>(-delta) ? 0 : n + delta;
  std::string v;
  PutFixed64BE(&v, n);
  return store.Put(CatalogProjection::kCounts, account, v);
}

// The fields of a row a product event sets.
template <typename T>
void SetFromEvent(CatalogEntry& entry, T& p, const Envelope& e, std::string_view change) {
  entry.summary = std::move(p.summary);
  entry.content_hash = std::move(p.content_hash);
  entry.last_change = change;
  entry.last_seq = e.seq;
  entry.last_run_id = std::move(p.run_id);
  entry.updated_at_us = e.recorded_at_us;
}

template <Payload T>
Status Upsert(const Envelope& e, ProjectionStore& store, std::string_view change) {
  MS_ASSIGN_OR_RETURN(T p, DecodePayload<T>(e.payload_version, e.payload, "raw_json"));
  const std::string key = OfferKey(p.account, p.offer_id);
  MS_ASSIGN_OR_RETURN(auto stored, store.Get(CatalogProjection::kOffers, key));
  CatalogEntry entry;
  if (stored) {
    MS_ASSIGN_OR_RETURN(entry, DecodeFields<CatalogEntry>(*stored, "catalog row"));
    MS_RETURN_IF_ERROR(store.Delete(CatalogProjection::kByChange, ChangeKey(entry.last_seq, key)));
  } else {
    entry.account = p.account;
    entry.offer_id = p.offer_id;
    entry.created_at_us = e.recorded_at_us;
    MS_RETURN_IF_ERROR(AddToCount(store, p.account, +1));
  }
  SetFromEvent(entry, p, e, change);
  MS_RETURN_IF_ERROR(store.Put(CatalogProjection::kOffers, key, EncodeFields(entry)));
  return store.Put(CatalogProjection::kByChange, ChangeKey(e.seq, key), "");
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool Matches(const CatalogEntry& entry, std::string_view needle_lower) {
  if (needle_lower.empty()) return true;
  return Lower(entry.summary.part_number).find(needle_lower) != std::string::npos ||
         Lower(entry.summary.name).find(needle_lower) != std::string::npos;
}

}  // namespace

namespace {

// The same fold as Upsert and the removal below, on decoded rows held in memory.
template <Payload T>
Status FoldUpsert(const Envelope& e, std::unordered_map<std::string, CatalogEntry>& rows,
                  std::set<std::string>& accounts, std::string_view change) {
  MS_ASSIGN_OR_RETURN(T p, DecodePayload<T>(e.payload_version, e.payload, "raw_json"));
  auto [it, fresh] = rows.try_emplace(OfferKey(p.account, p.offer_id));
  CatalogEntry& entry = it->second;
  if (fresh) {
    entry.account = p.account;
    entry.offer_id = p.offer_id;
    entry.created_at_us = e.recorded_at_us;
    if (!accounts.contains(p.account)) accounts.insert(p.account);
  }
  SetFromEvent(entry, p, e, change);
  return Status::Ok();
}

}  // namespace

void CatalogProjection::BeginFold() {
  folding_ = true;
  fold_rows_.clear();
  fold_accounts_.clear();
}

Status CatalogProjection::EndFold(ProjectionStore& store) {
  if (!folding_) return Status::Ok();
  folding_ = false;
  std::map<std::string, uint64_t> counts;
  for (const auto& account : fold_accounts_) counts[account] = 0;
  for (const auto& [key, entry] : fold_rows_) {
    MS_RETURN_IF_ERROR(store.Put(kOffers, key, EncodeFields(entry)));
    MS_RETURN_IF_ERROR(store.Put(kByChange, ChangeKey(entry.last_seq, key), ""));
    ++counts[entry.account];
  }
  for (const auto& [account, n] : counts) {
    std::string v;
    PutFixed64BE(&v, n);
    MS_RETURN_IF_ERROR(store.Put(kCounts, account, v));
  }
  fold_rows_.clear();
  fold_accounts_.clear();
  return Status::Ok();
}

Status CatalogProjection::Apply(const Envelope& e, ProjectionStore& store) {
  if (folding_) {
    switch (static_cast<EventType>(e.type)) {
      case EventType::kProductCreated:
        return FoldUpsert<ProductCreated>(e, fold_rows_, fold_accounts_, "created");
      case EventType::kProductUpdated:
        return FoldUpsert<ProductUpdated>(e, fold_rows_, fold_accounts_, "updated");
      case EventType::kProductRemoved: {
        MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductRemoved>(e.payload_version, e.payload));
        fold_rows_.erase(OfferKey(p.account, p.offer_id));
        return Status::Ok();
      }
      default:
        return Status::Ok();
    }
  }
  switch (static_cast<EventType>(e.type)) {
    case EventType::kProductCreated:
      return Upsert<ProductCreated>(e, store, "created");
    case EventType::kProductUpdated:
      return Upsert<ProductUpdated>(e, store, "updated");
    case EventType::kProductRemoved: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductRemoved>(e.payload_version, e.payload));
      const std::string key = OfferKey(p.account, p.offer_id);
      MS_ASSIGN_OR_RETURN(auto stored, store.Get(kOffers, key));
      if (!stored) return Status::Ok();
      MS_ASSIGN_OR_RETURN(CatalogEntry entry, DecodeFields<CatalogEntry>(*stored, "catalog row"));
      MS_RETURN_IF_ERROR(store.Delete(kByChange, ChangeKey(entry.last_seq, key)));
      MS_RETURN_IF_ERROR(store.Delete(kOffers, key));
      return AddToCount(store, p.account, -1);
    }
    default:
      return Status::Ok();
  }
}

Result<std::optional<CatalogEntry>> GetCatalogOffer(const KvReader& reader, std::string_view account,
                                                    uint64_t offer_id) {
  MS_ASSIGN_OR_RETURN(auto stored, reader.Get(CatalogProjection::kOffers, OfferKey(account, offer_id)));
  if (!stored) return std::optional<CatalogEntry>();
  MS_ASSIGN_OR_RETURN(CatalogEntry entry, DecodeFields<CatalogEntry>(*stored, "catalog row"));
  return std::optional<CatalogEntry>(std::move(entry));
}

Result<std::vector<std::pair<std::string, uint64_t>>> CatalogCounts(const KvReader& reader) {
  std::vector<std::pair<std::string, uint64_t>> out;
  MS_ASSIGN_OR_RETURN(auto it, reader.Scan(CatalogProjection::kCounts));
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    if (it->value().size() != 8) return Status::Corruption("catalog count of " + std::string(it->key()));
    out.emplace_back(std::string(it->key()), GetFixed64BE(it->value().data()));
  }
  MS_RETURN_IF_ERROR(it->status());
  return out;
}

Result<CatalogPage> SearchCatalog(const KvReader& reader, const CatalogQuery& q) {
  if (q.limit == 0 || q.limit > 1000) return Status::InvalidArgument("limit must be 1..1000");
  if (q.search.size() > 200) return Status::InvalidArgument("search must be at most 200 bytes");
  CatalogPage page;
  if (q.search.empty()) {
    // Newest change first straight from the index; the total from the counts.
    MS_ASSIGN_OR_RETURN(auto counts, CatalogCounts(reader));
    for (const auto& [account, n] : counts) {
      if (!q.account || *q.account == account) page.total += n;
    }
    MS_ASSIGN_OR_RETURN(auto it, reader.Scan(CatalogProjection::kByChange));
    size_t skipped = 0;
    for (it->SeekToLast(); it->Valid() && page.offers.size() < q.limit; it->Prev()) {
      std::string_view offer_key = it->key().substr(8);
      if (q.account && !(offer_key.size() == q.account->size() + 9 && offer_key.starts_with(*q.account) &&
                         offer_key[q.account->size()] == '\0')) {
        continue;
      }
      if (skipped < q.skip) {
        ++skipped;
        continue;
      }
      MS_ASSIGN_OR_RETURN(auto stored, reader.Get(CatalogProjection::kOffers, offer_key));
      if (!stored) return Status::Corruption("catalog index names an offer with no row");
      MS_ASSIGN_OR_RETURN(CatalogEntry entry, DecodeFields<CatalogEntry>(*stored, "catalog row"));
      page.offers.push_back(std::move(entry));
    }
    MS_RETURN_IF_ERROR(it->status());
    return page;
  }
  // A search reads every offer of the scope once; matches are ordered by their last change.
  const std::string needle = Lower(q.search);
  std::string prefix;
  if (q.account) {
    prefix = *q.account;
    prefix.push_back('\0');
  }
  std::vector<CatalogEntry> matches;
  MS_ASSIGN_OR_RETURN(auto it, reader.Scan(CatalogProjection::kOffers));
  for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
    MS_ASSIGN_OR_RETURN(CatalogEntry entry, DecodeFields<CatalogEntry>(it->value(), "catalog row"));
    if (Matches(entry, needle)) matches.push_back(std::move(entry));
  }
  MS_RETURN_IF_ERROR(it->status());
  page.total = matches.size();
  std::sort(matches.begin(), matches.end(),
            [](const CatalogEntry& a, const CatalogEntry& b) { return a.last_seq > b.last_seq; });
  for (size_t i = q.skip; i < matches.size() && page.offers.size() < q.limit; ++i) {
    page.offers.push_back(std::move(matches[i]));
  }
  return page;
}

}  // namespace marketsync
