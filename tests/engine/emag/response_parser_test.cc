#include "engine/emag/response_parser.h"

#include <gtest/gtest.h>

#include "tests/testutil/status_matchers.h"

namespace marketsync::emag {
namespace {

TEST(ResponseParserTest, ReadsEveryFieldOfAnOffer) {
  const std::string body = R"({"isError":false,"messages":[],"results":[{
    "id": 42, "part_number": "SKU-1", "part_number_key": "DABC123", "name": "Blender", "brand": "Bosch",
    "description": "<p>x</p>", "url": "https://www.emag.ro/x", "category_id": 10, "vendor_category_id": "11",
    "ean": ["5940000000007"], "sale_price": "42.0168", "recommended_price": 50,
    "min_sale_price": 40.5, "max_sale_price": "99.9999", "best_offer_sale_price": "41",
    "best_offer_recommended_price": null, "currency": "RON", "vat_id": "1", "warranty": 24,
    "status": "2", "stock": [{"warehouse_id": 1, "value": "7"}], "general_stock": 7,
    "estimated_stock": "6", "handling_time": [{"warehouse_id": 1, "value": 2}],
    "images": [{"url": "https://i/1.jpg", "display_type": 1}],
    "characteristics": [{"id": 5401, "value": "Negru"}], "family": {"id": 3, "name": "F"},
    "number_of_offers": true, "buy_button_rank": "2", "ownership": true,
    "validation_status": [{"value": 9, "description": "Approved", "errors": null}],
    "offer_validation_status": {"value": 1, "description": "Saleable"},
    "translation_validation_status": {"value": 17, "description": "OK"},
    "doc_errors": null, "genius_eligibility": 1, "genius_eligibility_type": "3",
    "manufacturer": [{"name": "M", "address": "A", "email": "e@x"}], "eu_representative": false,
    "safety_information": "careful"}]})";
  auto page = ParseReadResponse(body);
  ASSERT_OK(page);
  ASSERT_EQ(page->offers.size(), 1u);
  const Offer& o = page->offers[0];
  EXPECT_EQ(o.id, 42u);
  EXPECT_EQ(o.part_number, "SKU-1");
  EXPECT_EQ(o.part_number_key, "DABC123");
  EXPECT_EQ(o.vendor_category_id, 11);
  EXPECT_EQ(o.ean, std::vector<std::string>{"5940000000007"});
  EXPECT_EQ(o.sale_price->units, 420168);
  EXPECT_EQ(o.recommended_price->units, 500000);
  EXPECT_EQ(o.min_sale_price->units, 405000);
  EXPECT_EQ(o.max_sale_price->ToString(), "99.9999");
  EXPECT_FALSE(o.best_offer_recommended_price.has_value());
  EXPECT_EQ(o.vat_id, 1);
  EXPECT_EQ(o.status, 2);
  ASSERT_EQ(o.stock.size(), 1u);
  EXPECT_EQ(o.stock[0].value, 7);
  EXPECT_EQ(o.estimated_stock, 6);
  EXPECT_EQ(o.handling_time[0].value, 2);
  EXPECT_EQ(o.images[0].display_type, 1);
  EXPECT_EQ(o.characteristics[0].value, "Negru");
  EXPECT_EQ(o.family.id, 3);
  EXPECT_EQ(o.number_of_offers, 1);  // true
  EXPECT_EQ(o.ownership, 1);         // true
  EXPECT_EQ(o.buy_button_rank, 2);
  ASSERT_EQ(o.validation_status.size(), 1u);
  EXPECT_EQ(o.validation_status[0].value, 9);
  EXPECT_EQ(o.offer_validation_status->value, 1);
  ASSERT_EQ(o.translation_validation_status.size(), 1u);  // a single object
  EXPECT_EQ(o.translation_validation_status[0].value, 17);
  EXPECT_EQ(o.genius_eligibility_type, 3);
  ASSERT_EQ(o.manufacturer.size(), 1u);
  EXPECT_EQ(o.manufacturer[0].email, "e@x");
  EXPECT_TRUE(o.eu_representative.empty());  // a boolean
  EXPECT_EQ(o.safety_information, "careful");
  EXPECT_NE(o.raw_json.find("\"part_number\":\"SKU-1\""), std::string::npos);
}

TEST(ResponseParserTest, ValidationStatusAsOneObject) {
  auto page = ParseReadResponse(R"({"isError":false,"results":[{"id":"7","validation_status":{"value":"9","description":"ok"}}]})");
  ASSERT_OK(page);
  ASSERT_EQ(page->offers[0].validation_status.size(), 1u);
  EXPECT_EQ(page->offers[0].validation_status[0].value, 9);
  EXPECT_EQ(page->offers[0].id, 7u);
}

TEST(ResponseParserTest, PastTheLastPageIsEmpty) {
  auto page = ParseReadResponse(R"({"isError":false,"messages":[],"results":[]})");
  ASSERT_OK(page);
  EXPECT_TRUE(page->offers.empty());
}

TEST(ResponseParserTest, CountValuesAsStrings) {
  auto c = ParseCountResponse(R"({"isError":false,"messages":[],"results":{"noOfItems":"1275","noOfPages":"13","itemsPerPage":"100"}})");
  ASSERT_OK(c);
  EXPECT_EQ(c->items, 1275u);
  EXPECT_EQ(c->pages, 13u);
  EXPECT_EQ(c->items_per_page, 100u);
  auto n = ParseCountResponse(R"({"isError":false,"results":{"noOfItems":12,"noOfPages":1,"itemsPerPage":100}})");
  ASSERT_OK(n);
  EXPECT_EQ(n->items, 12u);
}

TEST(ResponseParserTest, MessagesAsStringsOrObjects) {
  auto r = ParseReadResponse(R"({"isError":true,"messages":["plain",{"text":"t"},{"message":"m"},{"field":"price","message":"too low"}],"results":[]})");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), Status::Code::kFailedPrecondition);
  EXPECT_NE(r.status().message().find("plain; t; m; price: too low"), std::string::npos) << r.status().ToString();
  auto env = ParseEnvelope(R"({"isError":"true","messages":[],"errors":[{"message":"from errors"}]})");
  ASSERT_OK(env);
  EXPECT_TRUE(env->is_error);
  EXPECT_EQ(env->messages, std::vector<std::string>{"from errors"});
}

TEST(ResponseParserTest, MalformedAndTruncatedBodiesAreCorruption) {
  const std::string good = R"({"isError":false,"messages":[],"results":[{"id":1}]})";
  for (size_t n = 0; n < good.size(); ++n) {
    auto r = ParseReadResponse(good.substr(0, n));
    ASSERT_FALSE(r.ok()) << n;
    EXPECT_TRUE(r.status().IsCorruption()) << r.status().ToString();
  }
  EXPECT_TRUE(ParseReadResponse("<html>502</html>").status().IsCorruption());
  EXPECT_TRUE(ParseReadResponse(R"({"message":"API rate limit exceeded"})").status().IsCorruption());
  EXPECT_TRUE(ParseReadResponse(R"({"isError":false,"results":[{"id":0}]})").status().IsCorruption());
  EXPECT_TRUE(ParseReadResponse(R"({"isError":false,"results":{"id":1}})").status().IsCorruption());
  EXPECT_TRUE(ParseCountResponse(R"({"isError":false,"results":{}})").status().IsCorruption());
}

TEST(Decimal4Test, ParsesAndPrints) {
  EXPECT_EQ(ParseDecimal4("42.0168")->units, 420168);
  EXPECT_EQ(ParseDecimal4("42")->units, 420000);
  EXPECT_EQ(ParseDecimal4("0.5")->units, 5000);
  EXPECT_EQ(ParseDecimal4("-1.25")->units, -12500);
  EXPECT_FALSE(ParseDecimal4("1.23456").ok());
  EXPECT_FALSE(ParseDecimal4("abc").ok());
  EXPECT_FALSE(ParseDecimal4("").ok());
  EXPECT_EQ(Decimal4{420168}.ToString(), "42.0168");
  EXPECT_EQ(Decimal4{420000}.ToString(), "42");
  EXPECT_EQ(Decimal4{5000}.ToString(), "0.5");
  EXPECT_EQ(Decimal4{-12500}.ToString(), "-1.25");
}

}  // namespace
}  // namespace marketsync::emag
