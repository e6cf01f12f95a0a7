#pragma once

#include <algorithm>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "base/id_hash_map.h"
#include "engine/emag/offer.h"
#include "engine/offer_fingerprint.h"
#include "engine/internal/product_rows.h"
#include "events/event_log.h"

namespace marketsync {

// The raw-text hash of every offer in engine_products, per account, in memory: the one field a
// sync needs for every offer ("the same text as last time?"), answered without a database
// read (a page's MultiGet was most of a re-sync's own work). An account is loaded by a scan of
// its rows on its first run in this process, and then kept equal to the family by applying the
// product rows of each step once that step is durable; an offer absent here is absent there.
// Steps that are not yet durable are not seen, which a run never needs: it reads each offer
// once (RunState::seen), and runs of one account do not overlap. Thread safety: internally
// locked (a run's pipeline thread applies while its run thread looks up).
class RawHashIndex {
 public:
  // A RawTextHash: two different texts share it with probability ~2^-128, far below any other
  // failure.
  using Hash = RawHash;
  // The index's form of a stored raw hash (the first 16 bytes of its slot; a row older than
  // version 3 holds a SHA-256 there, which matches no text's RawTextHash).
  static Hash Truncate(std::string_view raw_hash) {
    Hash h{};
    std::copy_n(raw_hash.begin(), std::min(raw_hash.size(), h.size()), h.begin());
    return h;
  }

  // Loads the account's hashes unless they are loaded. Errors: the scan's, kCorruption for a
  // malformed row.
  Status Load(const EventLog& log, const std::string& account) {
    {
      std::lock_guard lk(mu_);
      if (accounts_.contains(account)) return Status::Ok();
    }
    IdHashMap<Hash> hashes;
    MS_RETURN_IF_ERROR(ForEachProductRow(log, account, [&](uint64_t offer_id, std::string_view row) -> Status {
      MS_ASSIGN_OR_RETURN(std::string_view raw_hash, StoredRawHash(row));
      hashes.Set(offer_id, Truncate(raw_hash));
      return Status::Ok();
    }));
    std::lock_guard lk(mu_);
    accounts_.try_emplace(account, std::move(hashes));
    return Status::Ok();
  }

  // The stored hash of each offer (nullopt: no row). Requires Load(account).
  std::vector<std::optional<Hash>> Lookup(const std::string& account, const std::vector<emag::Offer>& offers) const {
    std::vector<std::optional<Hash>> out(offers.size());
    std::lock_guard lk(mu_);
    auto a = accounts_.find(account);
    if (a == accounts_.end()) return out;
    for (size_t i = 0; i < offers.size(); ++i) {
      if (const Hash* h = a->second.Find(offers[i].id)) out[i] = *h;
    }
    return out;
  }

  // How many offers of the account the mirror holds (0 when not loaded).
  size_t Size(const std::string& account) const {
    std::lock_guard lk(mu_);
    auto a = accounts_.find(account);
    return a == accounts_.end() ? 0 : a->second.size();
  }

  // The product rows a durable step wrote.
  struct Change {
    std::string account;
    uint64_t offer_id = 0;
    std::optional<Hash> raw_hash;  // nullopt: the row was deleted
  };
  static std::vector<Change> ChangesOf(const Step& step) {
    std::vector<Change> out;
    for (const auto& w : step.writes) {
      if (w.column_family != kProductsFamily) continue;
      const std::optional<ProductKeyParts> key = ParseProductKey(w.key);
      if (!key) continue;
      Change c{std::string(key->account), key->offer_id, std::nullopt};
      if (w.value) {
        auto raw_hash = StoredRawHash(*w.value);
        if (!raw_hash.ok()) continue;  // the engine wrote it: cannot happen
        c.raw_hash = Truncate(*raw_hash);
      }
      out.push_back(std::move(c));
    }
    return out;
  }
  void Apply(const std::vector<Change>& changes) {
    std::lock_guard lk(mu_);
    for (const Change& c : changes) {
      auto a = accounts_.find(c.account);
      if (a == accounts_.end()) continue;  // not loaded: its next Load reads the row
      if (c.raw_hash) {
        a->second.Set(c.offer_id, *c.raw_hash);
      } else {
        a->second.Erase(c.offer_id);
      }
    }
  }

  // The account's offers that have a row but are not in `seen`, ascending (the order of a
  // scan of the rows). kNotFound when the account is not loaded.
  Result<std::vector<uint64_t>> IdsNotIn(const std::string& account, const IdHashMap<bool>& seen) const {
    std::vector<uint64_t> out;
    {
      std::lock_guard lk(mu_);
      auto a = accounts_.find(account);
      if (a == accounts_.end()) return Status::NotFound("account " + account + " is not loaded");
      a->second.ForEach([&](uint64_t id, const Hash&) {
        if (seen.Find(id) == nullptr) out.push_back(id);
      });
    }
    std::sort(out.begin(), out.end());
    return out;
  }

  // Forgets every account (the family was written some other way).
  void Clear() {
    std::lock_guard lk(mu_);
    accounts_.clear();
  }
  // Drops one account's hashes: its next Load reads them again.
  void Forget(const std::string& account) {
    std::lock_guard lk(mu_);
    accounts_.erase(account);
  }

 private:
  mutable std::mutex mu_;  // guards accounts_
  std::map<std::string, IdHashMap<Hash>, std::less<>> accounts_;
};

}  // namespace marketsync
