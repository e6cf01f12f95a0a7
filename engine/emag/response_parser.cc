#include "engine/emag/response_parser.h"

#include <boost/json.hpp>
#include <charconv>
#include <cmath>

namespace marketsync::emag {
namespace json = boost::json;
namespace {

const json::value* Field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it == o.end() ? nullptr : &it->value();
}

// Integers from numbers, numeric strings ("42", "42.0"), or booleans (true = 1); else 0.
int64_t Int(const json::value* v) {
  if (v == nullptr) return 0;
  switch (v->kind()) {
    case json::kind::int64: return v->get_int64();
    case json::kind::uint64: return static_cast<int64_t>(v->get_uint64());
    case json::kind::double_: return static_cast<int64_t>(std::llround(v->get_double()));
    case json::kind::bool_: return v->get_bool() ? 1 : 0;
    case json::kind::string: {
      std::string_view s = v->get_string();
      int64_t out = 0;
      auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
      if (ec != std::errc()) return 0;
      return out;  // "42.0" reads as 42
    }
    default: return 0;
  }
}

std::string Str(const json::value* v) {
  if (v == nullptr) return {};
  switch (v->kind()) {
    case json::kind::string: return std::string(v->get_string());
    case json::kind::int64: return std::to_string(v->get_int64());
    case json::kind::uint64: return std::to_string(v->get_uint64());
    case json::kind::double_: return json::serialize(*v);
    case json::kind::bool_: return v->get_bool() ? "true" : "false";
    default: return {};
  }
}

std::optional<Decimal4> Dec(const json::value* v) {
  if (v == nullptr || v->is_null()) return std::nullopt;
  if (v->is_double()) return Decimal4{static_cast<int64_t>(std::llround(v->get_double() * 10000.0))};
  if (v->is_int64()) return Decimal4{v->get_int64() * 10000};
  if (v->is_uint64()) return Decimal4{static_cast<int64_t>(v->get_uint64()) * 10000};
  if (v->is_string()) {
    auto d = ParseDecimal4(v->get_string());
    if (d.ok()) return *d;
  }
  return std::nullopt;
}

// A list of T from an array, a single object (some accounts send one), or nothing.
template <typename T, typename Fn>
std::vector<T> ListOrOne(const json::value* v, Fn parse_one) {
  std::vector<T> out;
  if (v == nullptr) return out;
  if (v->is_array()) {
    for (const auto& item : v->get_array()) out.push_back(parse_one(item));
  } else if (v->is_object()) {
    out.push_back(parse_one(*v));
  }
  return out;
}

std::vector<std::string> Strings(const json::value* v) {
  return ListOrOne<std::string>(v, [](const json::value& item) {
    if (item.is_object()) return json::serialize(item);
    return Str(&item);
  });
}

WarehouseValue ParseWarehouseValue(const json::value& v) {
  WarehouseValue w;
  if (const auto* o = v.if_object()) {
    w.warehouse_id = Int(Field(*o, "warehouse_id"));
    w.value = Int(Field(*o, "value"));
  }
  return w;
}

ValidationStatus ParseValidationStatus(const json::value& v) {
  ValidationStatus s;
  if (const auto* o = v.if_object()) {
    s.value = Int(Field(*o, "value"));
    s.description = Str(Field(*o, "description"));
    s.errors = Strings(Field(*o, "errors"));
  } else {
    s.value = Int(&v);
  }
  return s;
}

Party ParseParty(const json::value& v) {
  Party p;
  if (const auto* o = v.if_object()) {
    p.name = Str(Field(*o, "name"));
    p.address = Str(Field(*o, "address"));
    p.email = Str(Field(*o, "email"));
  }
  return p;
}

Result<Offer> ParseOffer(const json::value& v, size_t index) {
  const auto* o = v.if_object();
  if (o == nullptr) return Status::Corruption("offer " + std::to_string(index) + " is not an object");
  Offer offer;
  const int64_t id = Int(Field(*o, "id"));
  if (id < 1 || id > 4294967295LL) {
    return Status::Corruption("offer " + std::to_string(index) + " has no valid id");
  }
  offer.id = static_cast<uint64_t>(id);
  offer.part_number = Str(Field(*o, "part_number"));
  offer.part_number_key = Str(Field(*o, "part_number_key"));
  offer.name = Str(Field(*o, "name"));
  offer.brand = Str(Field(*o, "brand"));
  offer.description = Str(Field(*o, "description"));
  offer.url = Str(Field(*o, "url"));
  offer.category_id = Int(Field(*o, "category_id"));
  offer.vendor_category_id = Int(Field(*o, "vendor_category_id"));
  offer.ean = Strings(Field(*o, "ean"));
  offer.sale_price = Dec(Field(*o, "sale_price"));
  offer.recommended_price = Dec(Field(*o, "recommended_price"));
  offer.min_sale_price = Dec(Field(*o, "min_sale_price"));
  offer.max_sale_price = Dec(Field(*o, "max_sale_price"));
  offer.best_offer_sale_price = Dec(Field(*o, "best_offer_sale_price"));
  offer.best_offer_recommended_price = Dec(Field(*o, "best_offer_recommended_price"));
  offer.currency = Str(Field(*o, "currency"));
  offer.vat_id = Int(Field(*o, "vat_id"));
  offer.warranty = Int(Field(*o, "warranty"));
  offer.status = Int(Field(*o, "status"));
  offer.stock = ListOrOne<WarehouseValue>(Field(*o, "stock"), ParseWarehouseValue);
  offer.general_stock = Int(Field(*o, "general_stock"));
  offer.estimated_stock = Int(Field(*o, "estimated_stock"));
  offer.handling_time = ListOrOne<WarehouseValue>(Field(*o, "handling_time"), ParseWarehouseValue);
  offer.images = ListOrOne<Image>(Field(*o, "images"), [](const json::value& item) {
    Image img;
    if (const auto* io = item.if_object()) {
      img.url = Str(Field(*io, "url"));
      img.display_type = Int(Field(*io, "display_type"));
    }
    return img;
  });
  offer.characteristics = ListOrOne<Characteristic>(Field(*o, "characteristics"), [](const json::value& item) {
    Characteristic c;
    if (const auto* co = item.if_object()) {
      c.id = Int(Field(*co, "id"));
      c.value = Str(Field(*co, "value"));
    }
    return c;
  });
  if (const auto* f = Field(*o, "family"); f != nullptr && f->is_object()) {
    offer.family.id = Int(Field(f->get_object(), "id"));
    offer.family.name = Str(Field(f->get_object(), "name"));
  }
  offer.number_of_offers = Int(Field(*o, "number_of_offers"));
  offer.buy_button_rank = Int(Field(*o, "buy_button_rank"));
  offer.ownership = Int(Field(*o, "ownership"));
  offer.validation_status = ListOrOne<ValidationStatus>(Field(*o, "validation_status"), ParseValidationStatus);
  if (const auto* ovs = Field(*o, "offer_validation_status"); ovs != nullptr && !ovs->is_null()) {
    offer.offer_validation_status = ParseValidationStatus(*ovs);
  }
  offer.translation_validation_status =
      ListOrOne<ValidationStatus>(Field(*o, "translation_validation_status"), ParseValidationStatus);
  offer.doc_errors = Strings(Field(*o, "doc_errors"));
  offer.genius_eligibility = Int(Field(*o, "genius_eligibility"));
  offer.genius_eligibility_type = Int(Field(*o, "genius_eligibility_type"));
  offer.manufacturer = ListOrOne<Party>(Field(*o, "manufacturer"), ParseParty);
  offer.eu_representative = ListOrOne<Party>(Field(*o, "eu_representative"), ParseParty);
  offer.safety_information = Str(Field(*o, "safety_information"));
  offer.raw_json = json::serialize(v);
  return offer;
}

// Parses into `storage` (a bump allocator: a page of offers is thousands of small objects,
// all freed together when the parse result is done with).
Result<json::value> ParseJson(std::string_view body, json::storage_ptr storage = {}) {
  boost::system::error_code ec;
  json::value v = json::parse(body, ec, std::move(storage));
  if (ec) return Status::Corruption("malformed JSON body (" + ec.message() + ")");
  return v;
}

std::string MessageText(const json::value& m) {
  if (const auto* o = m.if_object()) {
    std::string text = Str(Field(*o, "text"));
    if (text.empty()) text = Str(Field(*o, "message"));
    const std::string field = Str(Field(*o, "field"));
    if (!field.empty()) text = field + ": " + text;
    return text;
  }
  return Str(&m);
}

Result<EnvelopeInfo> EnvelopeOf(const json::value& v) {
  const auto* o = v.if_object();
  if (o == nullptr || Field(*o, "isError") == nullptr) {
    return Status::Corruption("the body is not an eMAG response envelope");
  }
  EnvelopeInfo info;
  const json::value* is_error = Field(*o, "isError");
  info.is_error = is_error->is_bool() ? is_error->get_bool() : (Int(is_error) != 0 || Str(is_error) == "true");
  for (const char* key : {"messages", "errors"}) {
    if (const auto* list = Field(*o, key); list != nullptr && list->is_array()) {
      for (const auto& m : list->get_array()) {
        std::string text = MessageText(m);
        if (!text.empty()) info.messages.push_back(std::move(text));
      }
    }
  }
  return info;
}

Status ErrorOf(const EnvelopeInfo& info) {
  std::string joined;
  for (const auto& m : info.messages) joined += (joined.empty() ? "" : "; ") + m;
  if (joined.empty()) joined = "isError with no message";
  return Status::FailedPrecondition("eMAG answered isError: " + joined);
}

}  // namespace

std::string Decimal4::ToString() const {
  const bool negative = units < 0;
  const uint64_t abs = negative ? static_cast<uint64_t>(-(units + 1)) + 1 : static_cast<uint64_t>(units);
  std::string out = (negative ? "-" : "") + std::to_string(abs / 10000);
  uint64_t frac = abs % 10000;
  if (frac != 0) {
    std::string digits = std::to_string(frac);
    digits.insert(0, 4 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;
  }
  return out;
}

Result<Decimal4> ParseDecimal4(std::string_view text) {
  auto bad = [&] { return Status::InvalidArgument("not a decimal: \"" + std::string(text.substr(0, 40)) + "\""); };
  if (text.empty()) return bad();
  bool negative = false;
  if (text[0] == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const size_t dot = text.find('.');
  std::string_view whole = text.substr(0, dot);
  std::string_view frac = dot == std::string_view::npos ? std::string_view() : text.substr(dot + 1);
  if (whole.empty() || whole.size() > 14 || frac.size() > 4) return bad();
  int64_t units = 0;
  for (char c : whole) {
    if (c < '0' || c > '9') return bad();
    units = units * 10 + (c - '0');
  }
  int64_t f = 0;
  for (size_t i = 0; i < 4; ++i) {
    const char c = i < frac.size() ? frac[i] : '0';
    if (c < '0' || c > '9') return bad();
    f = f * 10 + (c - '0');
  }
  units = units * 10000 + f;
  return Decimal4{negative ? -units : units};
}

Result<EnvelopeInfo> ParseEnvelope(std::string_view body) {
  MS_ASSIGN_OR_RETURN(json::value v, ParseJson(body));
  return EnvelopeOf(v);
}

Result<OfferPage> ParseReadResponse(std::string_view body) {
  // The arena's first block is reused page after page by this thread: fresh blocks of this
  // size come from mmap, and faulting their pages in cost more than the parse.
  thread_local std::vector<unsigned char> block;
  if (block.size() < body.size() * 2 + 4096) block.resize(body.size() * 2 + 4096);
  json::monotonic_resource arena(block.data(), block.size());
  MS_ASSIGN_OR_RETURN(json::value v, ParseJson(body, &arena));
  MS_ASSIGN_OR_RETURN(EnvelopeInfo info, EnvelopeOf(v));
  if (info.is_error) return ErrorOf(info);
  const json::value* results = Field(v.get_object(), "results");
  OfferPage page;
  page.bytes = body.size();
  if (results == nullptr || results->is_null()) return page;
  if (!results->is_array()) return Status::Corruption("product_offer/read results is not a list");
  page.offers.reserve(results->get_array().size());
  size_t i = 0;
  for (const auto& item : results->get_array()) {
    MS_ASSIGN_OR_RETURN(Offer offer, ParseOffer(item, i++));
    page.offers.push_back(std::move(offer));
  }
  return page;
}

Result<OfferCount> ParseCountResponse(std::string_view body) {
  MS_ASSIGN_OR_RETURN(json::value v, ParseJson(body));
  MS_ASSIGN_OR_RETURN(EnvelopeInfo info, EnvelopeOf(v));
  if (info.is_error) return ErrorOf(info);
  const json::value* results = Field(v.get_object(), "results");
  if (results == nullptr || !results->is_object()) {
    return Status::Corruption("product_offer/count results is not an object");
  }
  const auto& r = results->get_object();
  if (Field(r, "noOfItems") == nullptr) return Status::Corruption("product_offer/count has no noOfItems");
  OfferCount count;
  const int64_t items = Int(Field(r, "noOfItems"));
  if (items < 0) return Status::Corruption("product_offer/count noOfItems is negative");
  count.items = static_cast<uint64_t>(items);
  count.pages = static_cast<uint32_t>(std::max<int64_t>(0, Int(Field(r, "noOfPages"))));
  count.items_per_page = static_cast<uint32_t>(std::max<int64_t>(0, Int(Field(r, "itemsPerPage"))));
  return count;
}

}  // namespace marketsync::emag
