#include "projections/catalog.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "base/id_hash_map.h"
#include "base/coding.h"
#include "schema/payload_codec.h"

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

// Product events of an offer only on that offer's stream (see IsProductStreamOf): an offer's row
// is then written by its own stream alone, and that stream's first event knows the row does not
// exist yet.
Status CheckProductStream(const Envelope& e, std::string_view account, uint64_t offer_id) {
  if (IsProductStreamOf(e.stream_id, account, offer_id)) return Status::Ok();
  return Status::InvalidArgument(std::string(EventTypeName(e.type)) + " of offer " + std::to_string(offer_id) +
                                 " of account " + std::string(account) + " on stream " + e.stream_id + "; it belongs on " +
                                 ProductStreamId(account, offer_id));
}

// The fields of a row a product event sets. The payload's strings are swapped in, so that
// `p` keeps the row's old buffers (the fold decodes its next event into them).
template <typename T>
void SetFromEvent(CatalogEntry& entry, T& p, const Envelope& e, std::string_view change) {
  using std::swap;
  swap(entry.summary, p.summary);
  swap(entry.content_hash, p.content_hash);
  swap(entry.last_run_id, p.run_id);
  entry.last_change = change;
  entry.last_seq = e.seq;
  entry.updated_at_us = e.recorded_at_us;
}

// `p` and `entry` are the caller's scratch, decoded into (every field of the row is set here),
// so a run of product events reuses their strings.
template <Payload T>
Status Upsert(const Envelope& e, T& p, CatalogEntry& entry, ProjectionStore& store, std::string_view change) {
  MS_RETURN_IF_ERROR(DecodePayloadInto(e.payload_version, e.payload, p, "raw_json"));
  MS_RETURN_IF_ERROR(CheckProductStream(e, p.account, p.offer_id));
  const std::string key = OfferKey(p.account, p.offer_id);
  // The first event of the offer's stream finds no row: only that stream writes it. A first
  // sync creates every offer, and this read of an absent row was ~6% of its write thread.
  std::optional<std::string> stored;
  if (e.stream_version > 1) {
    MS_ASSIGN_OR_RETURN(stored, store.Get(CatalogProjection::kOffers, key));
  }
  if (stored) {
    MS_RETURN_IF_ERROR(DecodeFieldsInto(*stored, "catalog row", entry));
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

// The fold's rows: the same fold as Upsert and the removal below, on decoded rows held in
// memory. An offer is found through its account's IdHashMap (offer id -> row), one probe into
// a flat array, and its row is updated in place: the event is decoded into a scratch payload
// whose strings are then swapped with the row's, so the next decode reuses the old row's
// buffers and the loop does not allocate once every offer has a row.
struct CatalogProjection::FoldState {
  struct Row {
    CatalogEntry entry;
    uint32_t account = 0;  // index into accounts
    bool removed = false;
  };

  std::vector<std::string> accounts;           // accounts that ever had an offer, first seen first
  std::vector<IdHashMap<uint32_t>> row_of;     // per account: offer id -> index into rows
  std::vector<Row> rows;
  ProductCreated created;  // scratch payloads
  ProductUpdated updated;

  // The index of a known account, or accounts.size().
  size_t Known(std::string_view account) const {
    return static_cast<size_t>(std::find(accounts.begin(), accounts.end(), account) - accounts.begin());
  }
  // The row of an offer, created (or revived after a removal) by this event when needed.
  CatalogEntry& RowFor(std::string_view account_name, uint64_t offer_id, int64_t recorded_at_us) {
    const size_t account = Known(account_name);
    if (account == accounts.size()) {
      accounts.emplace_back(account_name);
      row_of.emplace_back();
    }
    const uint32_t* found = row_of[account].Find(offer_id);
    if (found == nullptr) {
      row_of[account].Set(offer_id, static_cast<uint32_t>(rows.size()));
      Row& fresh = rows.emplace_back();
      fresh.account = static_cast<uint32_t>(account);
      fresh.removed = true;
    }
    Row& row = rows[found != nullptr ? *found : rows.size() - 1];
    if (row.removed) {
      row.removed = false;
      row.entry.account = account_name;
      row.entry.offer_id = offer_id;
      row.entry.created_at_us = recorded_at_us;
    }
    return row.entry;
  }
  // Removing an offer that has no row changes nothing (and does not make its account known,
  // as the live fold keeps no count for an account that never had an offer).
  void Remove(std::string_view account_name, uint64_t offer_id) {
    const size_t account = Known(account_name);
    if (account == accounts.size()) return;
    if (const uint32_t* row = row_of[account].Find(offer_id)) rows[*row].removed = true;
  }

  template <Payload T>
  Status Upsert(const Envelope& e, T& p, std::string_view change) {
    MS_RETURN_IF_ERROR(DecodePayloadInto(e.payload_version, e.payload, p, "raw_json"));
    MS_RETURN_IF_ERROR(CheckProductStream(e, p.account, p.offer_id));
    SetFromEvent(RowFor(p.account, p.offer_id, e.recorded_at_us), p, e, change);
    return Status::Ok();
  }
};

// The live fold's scratch payloads and row (see Upsert).
struct CatalogProjection::LiveScratch {
  ProductCreated created;
  ProductUpdated updated;
  CatalogEntry entry;
};

CatalogProjection::CatalogProjection() : live_(std::make_unique<LiveScratch>()) {}
CatalogProjection::~CatalogProjection() = default;

void CatalogProjection::BeginFold() { fold_ = std::make_unique<FoldState>(); }

Status CatalogProjection::EndFold(ProjectionStore& store) {
  if (!fold_) return Status::Ok();
  const std::unique_ptr<FoldState> fold = std::move(fold_);
  std::vector<uint64_t> counts(fold->accounts.size(), 0);
  std::string key;
  for (const FoldState::Row& row : fold->rows) {
    if (row.removed) continue;
    key = OfferKey(row.entry.account, row.entry.offer_id);
    MS_RETURN_IF_ERROR(store.Put(kOffers, key, EncodeFields(row.entry)));
    MS_RETURN_IF_ERROR(store.Put(kByChange, ChangeKey(row.entry.last_seq, key), ""));
    ++counts[row.account];
  }
  // Every account that ever had an offer keeps a count, 0 when all its offers were removed.
  for (size_t i = 0; i < fold->accounts.size(); ++i) {
    std::string v;
    PutFixed64BE(&v, counts[i]);
    MS_RETURN_IF_ERROR(store.Put(kCounts, fold->accounts[i], v));
  }
  return Status::Ok();
}

Status CatalogProjection::Apply(const Envelope& e, ProjectionStore& store) {
  if (fold_) {
    switch (static_cast<EventType>(e.type)) {
      case EventType::kProductCreated:
        return fold_->Upsert(e, fold_->created, "created");
      case EventType::kProductUpdated:
        return fold_->Upsert(e, fold_->updated, "updated");
      case EventType::kProductRemoved: {
        MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductRemoved>(e.payload_version, e.payload));
        MS_RETURN_IF_ERROR(CheckProductStream(e, p.account, p.offer_id));
        fold_->Remove(p.account, p.offer_id);
        return Status::Ok();
      }
      default:
        return Status::Ok();
    }
  }
  switch (static_cast<EventType>(e.type)) {
    case EventType::kProductCreated:
      return Upsert(e, live_->created, live_->entry, store, "created");
    case EventType::kProductUpdated:
      return Upsert(e, live_->updated, live_->entry, store, "updated");
    case EventType::kProductRemoved: {
      MS_ASSIGN_OR_RETURN(auto p, DecodePayload<ProductRemoved>(e.payload_version, e.payload));
      MS_RETURN_IF_ERROR(CheckProductStream(e, p.account, p.offer_id));
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
