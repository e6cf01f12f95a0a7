#include "tools/emag-sim/catalog.h"

#include <algorithm>
#include <array>
#include <boost/json.hpp>

namespace marketsync::sim {
namespace {

namespace json = boost::json;

// splitmix64: a small, fast, well-mixed PRNG, the same on every platform.
uint64_t Mix(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

class Rng {
 public:
  explicit Rng(uint64_t seed) : state_(seed) {}
  uint64_t Next() { return Mix(state_++); }
  uint64_t Below(uint64_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint64_t state_;
};

constexpr std::array kBrands = {"Samsung", "Philips", "Bosch", "Tefal", "Xiaomi", "Lenovo",
                                "Braun", "Nikon", "Sony", "Arctic", "Gorenje", "Rowenta"};
constexpr std::array kKinds = {"Blender", "Espressor", "Aspirator", "Monitor", "Casti wireless",
                               "Laptop", "Fier de calcat", "Boxa portabila", "Router",
                               "Trotineta electrica", "Friteuza cu aer cald", "Cafetiera"};
constexpr std::array kColors = {"Negru", "Alb", "Argintiu", "Rosu", "Albastru", "Gri"};

struct Product {
  std::string sku;
  std::string pnk;
  std::string name;
  std::string brand;
  std::string color;
  std::string ean;
  int64_t category_id;
  int64_t base_price_units;
};

Product ProductOf(uint64_t seed, uint64_t index) {
  Rng r(Mix(seed ^ (index * 0x632BE59BD9B4E019ull)));
  Product p;
  p.brand = kBrands[r.Below(kBrands.size())];
  const std::string kind = kKinds[r.Below(kKinds.size())];
  p.color = kColors[r.Below(kColors.size())];
  const std::string model = std::string(1, static_cast<char>('A' + r.Below(26))) +
                            std::string(1, static_cast<char>('A' + r.Below(26))) + "-" +
                            std::to_string(100 + r.Below(9900));
  p.name = kind + " " + p.brand + " " + model + ", " + p.color;
  p.sku = "MS-" + std::to_string(100000 + index);
  static constexpr char kAlnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  p.pnk = "D";
  for (int i = 0; i < 8; ++i) p.pnk += kAlnum[r.Below(36)];
  std::string digits = "594";
  while (digits.size() < 12) digits += static_cast<char>('0' + r.Below(10));
  p.ean = digits + Ean13CheckDigit(digits);
  p.category_id = 1000 + static_cast<int64_t>(r.Below(40));
  p.base_price_units = 199900 + static_cast<int64_t>(r.Below(49'800'000));  // 19.99 .. 4999.99 RON
  return p;
}

json::array Parties(const std::string& brand) {
  return json::array{json::object{{"name", brand + " Europe SRL"},
                                  {"address", "Str. Industriilor 10, Bucuresti"},
                                  {"email", "compliance@" + brand + ".example"}}};
}

std::string PriceText(int64_t units) {
  std::string whole = std::to_string(units / 10000);
  std::string frac = std::to_string(units % 10000);
  frac.insert(0, 4 - frac.size(), '0');
  return whole + "." + frac;
}

}  // namespace

char Ean13CheckDigit(const std::string& first12) {
  int sum = 0;
  for (size_t i = 0; i < 12 && i < first12.size(); ++i) sum += (first12[i] - '0') * (i % 2 == 0 ? 1 : 3);
  return static_cast<char>('0' + (10 - sum % 10) % 10);
}

Catalog::Catalog(uint64_t seed, uint32_t account_index, uint32_t offers)
    : seed_(seed), account_index_(account_index), next_product_(offers),
      next_id_(static_cast<uint64_t>(account_index + 1) * 1'000'000 + offers * 3 + 1) {
  offers_.reserve(offers);
  for (uint64_t i = 0; i < offers; ++i) {
    offers_.push_back(MakeOffer(i, static_cast<uint64_t>(account_index + 1) * 1'000'000 + i * 3 + 1));
  }
  // A few duplicate part_numbers inside the account, as sellers make by mistake.
  Rng r(Mix(seed ^ (0xD0B1E5ull + account_index)));
  for (uint64_t i = 400; i < offers; i += 400) {
    offers_[i].part_number = offers_[r.Below(i)].part_number;
  }
}

SimOffer Catalog::MakeOffer(uint64_t product, uint64_t id) const {
  const Product p = ProductOf(seed_, product);
  Rng r(Mix(seed_ ^ (id * 0xA24BAED4963EE407ull)));
  SimOffer o;
  o.id = id;
  o.product = product;
  o.part_number = p.sku;
  // Each account prices the same product a little differently.
  o.price_units = p.base_price_units + static_cast<int64_t>(account_index_) * 1234 + static_cast<int64_t>(r.Below(10000));
  o.stock = static_cast<int64_t>(r.Below(60));
  const uint64_t s = r.Below(100);
  o.status = s < 3 ? 0 : (s < 4 ? 2 : 1);
  return o;
}

TickChanges Catalog::Tick() {
  ++ticks_;
  Rng r(Mix(seed_ ^ Mix(account_index_ * 1000003ull + ticks_)));
  TickChanges changes;
  const size_t n = offers_.size();
  // About 2% change price or stock, 0.5% disappear, 0.5% appear (at least one of each).
  const size_t updates = std::max<size_t>(1, n / 50);
  const size_t removals = n > 10 ? std::max<size_t>(1, n / 200) : 0;
  const size_t additions = std::max<size_t>(1, n / 200);
  std::vector<bool> touched(n, false);
  for (size_t k = 0; k < updates && n > 0; ++k) {
    const size_t i = r.Below(n);
    if (touched[i]) continue;
    touched[i] = true;
    SimOffer& o = offers_[i];
    if (r.Below(2) == 0) {
      o.price_units += static_cast<int64_t>(r.Below(20000)) + 1;
    } else {
      o.stock = (o.stock + 1 + static_cast<int64_t>(r.Below(20))) % 80;
    }
    ++o.revision;
    o.rendered.clear();
    changes.updated.push_back(o.id);
  }
  std::vector<size_t> remove_at;
  for (size_t k = 0; k < removals; ++k) {
    const size_t i = r.Below(n);
    if (touched[i]) continue;
    touched[i] = true;
    remove_at.push_back(i);
  }
  std::sort(remove_at.begin(), remove_at.end());
  for (auto it = remove_at.rbegin(); it != remove_at.rend(); ++it) {
    changes.removed.push_back(offers_[*it].id);
    offers_.erase(offers_.begin() + static_cast<std::ptrdiff_t>(*it));
  }
  for (size_t k = 0; k < additions; ++k) {
    SimOffer o = MakeOffer(next_product_++, next_id_);
    next_id_ += 3;
    changes.created.push_back(o.id);
    offers_.push_back(std::move(o));  // ids grow, so the list stays sorted
  }
  std::sort(changes.updated.begin(), changes.updated.end());
  std::sort(changes.removed.begin(), changes.removed.end());
  return changes;
}

const std::string& Catalog::RenderJson(const SimOffer& o) const {
  if (o.rendered.empty()) o.rendered = Render(o);
  return o.rendered;
}

std::string Catalog::Render(const SimOffer& o) const {
  const Product p = ProductOf(seed_, o.product);
  json::object v;
  v["id"] = o.id;
  v["part_number"] = o.part_number;
  v["part_number_key"] = p.pnk;
  v["name"] = p.name;
  v["brand"] = p.brand;
  v["description"] = "<p>" + p.name + ". Garantie 24 de luni.</p><p>Revizia " + std::to_string(o.revision) + ".</p>";
  v["url"] = "https://www.emag.ro/sim-" + p.sku + "/pd/" + p.pnk + "/";
  v["category_id"] = p.category_id;
  v["vendor_category_id"] = p.category_id + 500;
  v["ean"] = json::array{json::string(p.ean)};
  // Prices arrive as numbers for some offers and as strings for others, as seen live.
  if (o.product % 3 == 0) {
    v["sale_price"] = PriceText(o.price_units);
  } else {
    v["sale_price"] = static_cast<double>(o.price_units) / 10000.0;
  }
  v["recommended_price"] = PriceText(o.price_units + o.price_units / 10);
  v["min_sale_price"] = PriceText(o.price_units - o.price_units / 5);
  v["max_sale_price"] = PriceText(o.price_units * 2);
  v["best_offer_sale_price"] = PriceText(o.price_units);
  v["best_offer_recommended_price"] = PriceText(o.price_units + o.price_units / 10);
  v["currency"] = "RON";
  v["vat_id"] = 1;
  v["warranty"] = 24;
  v["status"] = o.status;
  v["stock"] = json::array{json::object{{"warehouse_id", 1}, {"value", o.stock}}};
  v["general_stock"] = o.stock;
  v["estimated_stock"] = std::to_string(o.stock);  // a number as a string
  v["handling_time"] = json::array{json::object{{"warehouse_id", 1}, {"value", 1}}};
  v["images"] = json::array{
      json::object{{"url", "https://marketplace.emag.ro/sim/" + p.sku + "-1.jpg"}, {"display_type", 1}},
      json::object{{"url", "https://marketplace.emag.ro/sim/" + p.sku + "-2.jpg"}, {"display_type", 2}}};
  v["characteristics"] = json::array{json::object{{"id", 5401}, {"value", p.color}},
                                     json::object{{"id", 6506}, {"value", "24 luni"}}};
  v["family"] = json::object{{"id", o.product % 5 == 0 ? static_cast<int64_t>(o.product / 5 + 1) : 0},
                             {"name", o.product % 5 == 0 ? p.brand + " family" : ""}};
  v["number_of_offers"] = 1 + static_cast<int64_t>(o.product % 4);
  v["buy_button_rank"] = 1 + static_cast<int64_t>(o.product % 3);
  // Some integer fields have arrived as `true`.
  if (o.product % 60 == 11) {
    v["ownership"] = true;
  } else {
    v["ownership"] = 1 + static_cast<int64_t>(o.product % 2);
  }
  json::object approved{{"value", 9}, {"description", "Approved documentation"}, {"errors", nullptr}};
  // validation_status: documented as a list, some accounts send one object.
  if (o.product % 50 == 7) {
    v["validation_status"] = approved;
  } else {
    v["validation_status"] = json::array{approved};
  }
  v["offer_validation_status"] = json::object{{"value", 1}, {"description", "Valid"}};
  v["translation_validation_status"] =
      json::array{json::object{{"value", 17}, {"description", "Translation approved"}, {"errors", nullptr}}};
  v["doc_errors"] = nullptr;
  v["genius_eligibility"] = static_cast<int64_t>(o.product % 2);
  v["genius_eligibility_type"] = static_cast<int64_t>(o.product % 4);
  if (o.product % 70 == 13) {
    v["manufacturer"] = false;  // sometimes a boolean
  } else {
    v["manufacturer"] = Parties(p.brand);
  }
  v["eu_representative"] = Parties(p.brand);
  v["safety_information"] = "";
  return json::serialize(v);
}

}  // namespace marketsync::sim
