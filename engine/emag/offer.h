#pragma once

// An eMAG product offer as product_offer/read returns it (../shared/emag-api.md), parsed
// leniently: numbers may arrive as strings, some integers as `true`, some lists as one object.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"

namespace marketsync::emag {

// A decimal with up to 4 places, held exactly as units of 1/10000 ("42.0168" = 420168).
struct Decimal4 {
  int64_t units = 0;
  template <class V> void Visit(V&& v) {
    v("units", units);
  }
  friend bool operator==(const Decimal4&, const Decimal4&) = default;
  // "42.0168", "42", "-0.5": trailing zeros of the fraction dropped.
  std::string ToString() const;
};

struct WarehouseValue {
  int64_t warehouse_id = 0;
  int64_t value = 0;
  template <class V> void Visit(V&& v) {
    v("warehouse_id", warehouse_id);
    v("value", value);
  }
  friend bool operator==(const WarehouseValue&, const WarehouseValue&) = default;
};

struct Image {
  std::string url;
  int64_t display_type = 0;  // 1 main, 2 secondary, 0 other
  template <class V> void Visit(V&& v) {
    v("url", url);
    v("display_type", display_type);
  }
  friend bool operator==(const Image&, const Image&) = default;
};

struct Characteristic {
  int64_t id = 0;
  std::string value;
  template <class V> void Visit(V&& v) {
    v("id", id);
    v("value", value);
  }
  friend bool operator==(const Characteristic&, const Characteristic&) = default;
};

struct Family {
  int64_t id = 0;  // 0 = no family
  std::string name;
  template <class V> void Visit(V&& v) {
    v("id", id);
    v("name", name);
  }
  friend bool operator==(const Family&, const Family&) = default;
};

struct ValidationStatus {
  int64_t value = 0;
  std::string description;
  std::vector<std::string> errors;
  template <class V> void Visit(V&& v) {
    v("value", value);
    v("description", description);
    v("errors", errors);
  }
  friend bool operator==(const ValidationStatus&, const ValidationStatus&) = default;
};

struct Party {  // manufacturer or EU representative
  std::string name;
  std::string address;
  std::string email;
  template <class V> void Visit(V&& v) {
    v("name", name);
    v("address", address);
    v("email", email);
  }
  friend bool operator==(const Party&, const Party&) = default;
};

struct Offer {
  uint64_t id = 0;  // the identity, per account (1..4294967295)
  std::string part_number;
  std::string part_number_key;
  std::string name;
  std::string brand;
  std::string description;
  std::string url;
  int64_t category_id = 0;
  int64_t vendor_category_id = 0;
  std::vector<std::string> ean;
  std::optional<Decimal4> sale_price;
  std::optional<Decimal4> recommended_price;
  std::optional<Decimal4> min_sale_price;
  std::optional<Decimal4> max_sale_price;
  std::optional<Decimal4> best_offer_sale_price;
  std::optional<Decimal4> best_offer_recommended_price;
  std::string currency;
  int64_t vat_id = 0;
  int64_t warranty = 0;
  int64_t status = 0;  // 0 inactive, 1 active, 2 end of life
  std::vector<WarehouseValue> stock;
  int64_t general_stock = 0;
  int64_t estimated_stock = 0;
  std::vector<WarehouseValue> handling_time;
  std::vector<Image> images;
  std::vector<Characteristic> characteristics;
  Family family;
  int64_t number_of_offers = 0;
  int64_t buy_button_rank = 0;
  int64_t ownership = 0;
  std::vector<ValidationStatus> validation_status;
  std::optional<ValidationStatus> offer_validation_status;
  std::vector<ValidationStatus> translation_validation_status;
  std::vector<std::string> doc_errors;
  int64_t genius_eligibility = 0;
  int64_t genius_eligibility_type = 0;
  std::vector<Party> manufacturer;
  std::vector<Party> eu_representative;
  std::string safety_information;

  // The offer as eMAG sent it (re-serialised from the parsed JSON value: the same value, with
  // eMAG's whitespace dropped), for the audit trail.
  std::string raw_json;

  // Every field of the record, in a fixed order; raw_json is not a field.
  template <class V> void Visit(V&& v) {
    v("id", id);
    v("part_number", part_number);
    v("part_number_key", part_number_key);
    v("name", name);
    v("brand", brand);
    v("description", description);
    v("url", url);
    v("category_id", category_id);
    v("vendor_category_id", vendor_category_id);
    v("ean", ean);
    v("sale_price", sale_price);
    v("recommended_price", recommended_price);
    v("min_sale_price", min_sale_price);
    v("max_sale_price", max_sale_price);
    v("best_offer_sale_price", best_offer_sale_price);
    v("best_offer_recommended_price", best_offer_recommended_price);
    v("currency", currency);
    v("vat_id", vat_id);
    v("warranty", warranty);
    v("status", status);
    v("stock", stock);
    v("general_stock", general_stock);
    v("estimated_stock", estimated_stock);
    v("handling_time", handling_time);
    v("images", images);
    v("characteristics", characteristics);
    v("family", family);
    v("number_of_offers", number_of_offers);
    v("buy_button_rank", buy_button_rank);
    v("ownership", ownership);
    v("validation_status", validation_status);
    v("offer_validation_status", offer_validation_status);
    v("translation_validation_status", translation_validation_status);
    v("doc_errors", doc_errors);
    v("genius_eligibility", genius_eligibility);
    v("genius_eligibility_type", genius_eligibility_type);
    v("manufacturer", manufacturer);
    v("eu_representative", eu_representative);
    v("safety_information", safety_information);
  }

  friend bool operator==(const Offer&, const Offer&) = default;
};

struct OfferCount {
  uint64_t items = 0;
  uint32_t pages = 0;
  uint32_t items_per_page = 0;
};

// The parsed `results` of one product_offer/read page.
struct OfferPage {
  std::vector<Offer> offers;
  uint64_t bytes = 0;  // size of the HTTP body
};

}  // namespace marketsync::emag
