#pragma once

// The catalog projection: the offers each account has now, as the product events left them,
// each with its last change (seq, run). Searchable by SKU or name, newest change first.
//
// Column families:
//   proj_catalog_offers     account 0x00 be64(offer id) -> CatalogEntry
//   proj_catalog_by_change  be64(last seq) account 0x00 be64(offer id) -> ""
//   proj_catalog_counts     account -> be64(offers)

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "events/projection.h"
#include "schema/stream_ids.h"
#include "schema/sync_events.h"

namespace marketsync {

struct CatalogEntry {
  std::string account;
  uint64_t offer_id = 0;
  OfferSummary summary;
  std::string content_hash;
  std::string last_change;    // "created" | "updated"
  uint64_t last_seq = 0;      // the event of the last change
  std::string last_run_id;
  int64_t created_at_us = 0;  // when the mirror first saw it
  int64_t updated_at_us = 0;  // the last change
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offer_id", offer_id);
    v("summary", summary);
    v("content_hash", content_hash);
    v("last_change", last_change);
    v("last_seq", last_seq);
    v("last_run_id", last_run_id);
    v("created_at_us", created_at_us);
    v("updated_at_us", updated_at_us);
  }
};

class CatalogProjection final : public Projection {
 public:
  static constexpr std::string_view kName = "catalog";
  static constexpr std::string_view kOffers = "proj_catalog_offers";
  static constexpr std::string_view kByChange = "proj_catalog_by_change";
  static constexpr std::string_view kCounts = "proj_catalog_counts";

  std::string_view name() const override { return kName; }
  std::vector<std::string> column_families() const override {
    return {std::string(kOffers), std::string(kByChange), std::string(kCounts)};
  }
  Status Apply(const Envelope& event, ProjectionStore& store) override;
  // During a whole-log fold the rows live in memory, decoded, and are written once at the
  // end: per event a payload decode and one table probe instead of a row read, decode,
  // encode, write and two index writes.
  void BeginFold() override;
  Status EndFold(ProjectionStore& store) override;

  CatalogProjection();
  ~CatalogProjection() override;

 private:
  struct FoldState;  // catalog.cc
  std::unique_ptr<FoldState> fold_;  // set between BeginFold and EndFold
  struct LiveScratch;  // catalog.cc
  std::unique_ptr<LiveScratch> live_;
};

struct CatalogQuery {
  std::optional<std::string> account;
  std::string search;  // substring of the SKU or the name, ASCII case-insensitive; empty = all
  size_t skip = 0;
  size_t limit = 50;   // 1..1000
};

struct CatalogPage {
  std::vector<CatalogEntry> offers;  // newest change first
  uint64_t total = 0;                // offers matching the query
};

// Errors: kInvalidArgument (limit 0 or over 1000, search over 200 bytes), kCorruption, kIOError.
Result<CatalogPage> SearchCatalog(const KvReader& reader, const CatalogQuery& query);
Result<std::optional<CatalogEntry>> GetCatalogOffer(const KvReader& reader, std::string_view account,
                                                    uint64_t offer_id);
// Offers per account, in account order.
Result<std::vector<std::pair<std::string, uint64_t>>> CatalogCounts(const KvReader& reader);

}  // namespace marketsync
