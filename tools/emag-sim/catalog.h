#pragma once

// The simulator's catalogue of one seller account: deterministic from a seed, drifting one tick
// at a time. Rendered as eMAG offer records (../shared/emag-api.md).

#include <cstdint>
#include <string>
#include <vector>

namespace marketsync::sim {

struct SimOffer {
  uint64_t id = 0;
  uint64_t product = 0;       // index of the product it sells (shared across accounts: same SKU)
  std::string part_number;    // SKU (a few are duplicated inside one account on purpose)
  int64_t price_units = 0;    // sale price in 1/10000 RON
  int64_t stock = 0;
  int status = 1;             // 0 inactive, 1 active, 2 end of life
  uint32_t revision = 0;      // bumped by each drift change, shows in the description
  mutable std::string rendered;  // RenderJson's answer, cached until the offer changes
};

struct TickChanges {
  std::vector<uint64_t> created;
  std::vector<uint64_t> updated;
  std::vector<uint64_t> removed;
};

// Thread safety: none; the simulator guards it.
class Catalog {
 public:
  // `account_index` makes ids differ between accounts that sell the same products.
  Catalog(uint64_t seed, uint32_t account_index, uint32_t offers);

  // Offers sorted by id, as product_offer/read pages them.
  const std::vector<SimOffer>& offers() const { return offers_; }
  // One drift step, deterministic from (seed, account, tick number): some prices and stocks
  // change, some offers are removed and some added. Returns exactly what changed.
  TickChanges Tick();
  // The offer as eMAG's JSON record (rendered once, then cached on the offer).
  const std::string& RenderJson(const SimOffer& offer) const;

 private:
  SimOffer MakeOffer(uint64_t product, uint64_t id) const;
  std::string Render(const SimOffer& offer) const;

  uint64_t seed_;
  uint32_t account_index_;
  uint64_t next_product_;
  uint64_t next_id_;
  uint32_t ticks_ = 0;
  std::vector<SimOffer> offers_;
};

// The EAN-13 check digit of 12 digits.
char Ean13CheckDigit(const std::string& first12);

}  // namespace marketsync::sim
