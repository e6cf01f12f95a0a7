// The catalog projection: offers per account, search, paging, drift, its whole-log fold, and
// the rule that product events go on their offer's stream.

#include "tests/projections/projections_fixture.h"

namespace marketsync::testing {
namespace {

TEST_F(ProjectionsTest, CatalogMirrorsTheOffersSearchAndPaging) {
  Run(Full("both"));
  auto main = SearchCatalog(*log_, CatalogQuery{"main", "", 0, 1000});
  ASSERT_OK(main);
  EXPECT_EQ(main->total, kOffers);
  ASSERT_EQ(main->offers.size(), kOffers);
  std::map<uint64_t, std::string> catalog;
  for (const auto& o : main->offers) catalog[o.offer_id] = o.content_hash;
  EXPECT_EQ(catalog, testing::MirroredProducts(*log_, "main"));
  for (size_t i = 1; i < main->offers.size(); ++i) EXPECT_GT(main->offers[i - 1].last_seq, main->offers[i].last_seq);

  // A known SKU, searched in other case, and a name substring.
  const CatalogEntry& some = main->offers[17];
  ASSERT_FALSE(some.summary.part_number.empty());
  ASSERT_FALSE(some.summary.name.empty());
  std::string upper = some.summary.part_number;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  auto by_sku = SearchCatalog(*log_, CatalogQuery{std::nullopt, upper, 0, 50});
  ASSERT_OK(by_sku);
  ASSERT_GE(by_sku->total, 1u);
  EXPECT_TRUE(std::any_of(by_sku->offers.begin(), by_sku->offers.end(),
                          [&](const CatalogEntry& e) { return e.offer_id == some.offer_id && e.account == "main"; }));
  auto none = SearchCatalog(*log_, CatalogQuery{std::nullopt, "no such offer anywhere", 0, 50});
  ASSERT_OK(none);
  EXPECT_EQ(none->total, 0u);
  auto paged = SearchCatalog(*log_, CatalogQuery{std::nullopt, "", 290, 50});
  ASSERT_OK(paged);
  EXPECT_EQ(paged->total, 2 * kOffers);
  EXPECT_EQ(paged->offers.size(), 10u);
  EXPECT_FALSE(SearchCatalog(*log_, CatalogQuery{std::nullopt, "", 0, 0}).ok());

  // Drift: the catalog follows what the simulator changed.
  auto tick = sim_->Tick("main");
  ASSERT_OK(tick);
  Run(Full("main"));
  auto after = SearchCatalog(*log_, CatalogQuery{"main", "", 0, 1000});
  ASSERT_OK(after);
  EXPECT_EQ(after->total, kOffers + tick->created.size() - tick->removed.size());
  catalog.clear();
  for (const auto& o : after->offers) catalog[o.offer_id] = o.content_hash;
  EXPECT_EQ(catalog, MirroredProducts(*log_, "main"));
}

// A product event of payload version 1 (before the offer summary was added).
struct ProductCreatedV1 {
  std::string account;
  uint64_t offer_id = 0;
  std::string run_id, content_hash, raw_json;
  template <class V> void Visit(V&& v) {
    v("account", account);
    v("offer_id", offer_id);
    v("run_id", run_id);
    v("content_hash", content_hash);
    v("raw_json", raw_json);
  }
};

OfferSummary Summary(const std::string& sku, const std::string& price) {
  OfferSummary s;
  s.part_number = sku;
  s.name = "Name of " + sku;
  s.sale_price = price;
  s.currency = "RON";
  s.stock = 3;
  s.status = 1;
  return s;
}

// The catalog's whole-log fold (rows decoded in memory, buffers reused between events) gives
// the same rows as the live fold through the write batch, over an offer's whole life: created,
// updated, removed, created again under the same id, old payload versions, and an account
// whose offers were all removed.
TEST(CatalogFoldTest, WholeLogFoldEqualsTheLiveRowsOverAnOffersLife) {
  testing::TempDir dir;
  EventLogOptions o = SyncLogOptions();
  o.projections.clear();  // only the projections this test registers
  o.projections.push_back(std::make_unique<CatalogProjection>());
  auto log = EventLog::Open(dir.Sub("db"), std::move(o));
  ASSERT_OK(log);
  // Each event on its offer's stream, as the engine writes them.
  struct OfferEvent {
    std::string account;
    uint64_t offer_id;
    NewEvent event;
  };
  auto step = [&](std::vector<OfferEvent> events) {
    Step s;
    for (auto& e : events) s.streams.push_back({ProductStreamId(e.account, e.offer_id), kAnyVersion, {std::move(e.event)}});
    ASSERT_OK((*log)->Append(std::move(s)));
  };
  const std::string run = "0000000000000001aaaaaaaa";
  step({{"main", 1, MakeEvent(ProductCreated{"main", 1, run, std::string(64, 'a'), R"({"id":1})", Summary("SKU-1", "10.00")})},
        {"main", 2, MakeEvent(ProductCreated{"main", 2, run, std::string(64, 'b'), R"({"id":2})", Summary("SKU-2", "20.00")})},
        {"fbe", 1, MakeEvent(ProductCreated{"fbe", 1, run, std::string(64, 'c'), R"({"id":1})", Summary("FBE-1", "5.00")})}});
  step({{"main", 1, MakeEvent(ProductUpdated{"main", 1, run, std::string(64, 'd'), {"sale_price"}, R"({"id":1,"p":2})",
                                             Summary("SKU-1", "11.50")})},
        {"main", 2, MakeEvent(ProductRemoved{"main", 2, run})}, {"fbe", 1, MakeEvent(ProductRemoved{"fbe", 1, run})}});
  step({{"main", 2, MakeEvent(ProductCreated{"main", 2, run, std::string(64, 'f'), R"({"id":2,"back":1})", Summary("SKU-2b", "21.00")})}});
  // Version 1 payloads carry no summary: the row's summary must come out empty, not left over
  // from the event decoded before (whose buffers the fold reuses).
  step({{"main", 3, NewEvent{static_cast<uint16_t>(EventType::kProductCreated), 1,
                             EncodeFields(ProductCreatedV1{"main", 3, run, std::string(64, 'e'), R"({"id":3})"})}}});
  for (uint64_t id = 10; id < 1'000; ++id) {  // enough offers to grow the fold's table
    step({{"main", id, MakeEvent(ProductCreated{"main", id, run, std::string(64, 'g'), "{}", Summary("SKU-" + std::to_string(id), "1.00")})}});
  }
  for (uint64_t id = 10; id < 1'000; id += 3) step({{"main", id, MakeEvent(ProductRemoved{"main", id, run})}});
  // Removals of offers that have no row change nothing, in an account never seen either.
  step({{"main", 5'000, MakeEvent(ProductRemoved{"main", 5'000, run})}, {"ghost", 1, MakeEvent(ProductRemoved{"ghost", 1, run})}});

  const std::vector<std::string> families = (*log)->projections()[0]->column_families();
  auto live = DigestFamilies(**log, families);
  ASSERT_OK(live);
  CatalogProjection catalog;
  MemoryStore folded;
  ASSERT_OK(FoldLog(**log, {&catalog}, folded));
  auto fold = DigestFamilies(folded, families);
  ASSERT_OK(fold);
  auto diff = FirstDifference(**log, folded, families);
  ASSERT_OK(diff);
  EXPECT_EQ(*fold, *live) << (diff->has_value() ? (*diff)->family + " " + PrintableKey((*diff)->key) + ": " + (*diff)->what
                                                  : "no row differs");

  auto back = GetCatalogOffer(folded, "main", 2);
  ASSERT_OK(back);
  ASSERT_TRUE(back->has_value());
  EXPECT_EQ((*back)->summary.part_number, "SKU-2b");
  EXPECT_EQ((*back)->last_change, "created");
  auto old = GetCatalogOffer(folded, "main", 3);
  ASSERT_OK(old);
  ASSERT_TRUE(old->has_value());
  EXPECT_EQ((*old)->summary.part_number, "");
  EXPECT_EQ((*old)->content_hash, std::string(64, 'e'));
  auto gone = GetCatalogOffer(folded, "fbe", 1);
  ASSERT_OK(gone);
  EXPECT_FALSE(gone->has_value());
  auto counts = CatalogCounts(folded);
  ASSERT_OK(counts);
  const std::map<std::string, uint64_t> by_account(counts->begin(), counts->end());
  EXPECT_EQ(by_account, (std::map<std::string, uint64_t>{{"fbe", 0}, {"main", 3 + 990 - 330}}));
}


// The catalog reads no row for the first event of an offer's stream, which is only right when
// no other stream writes that offer's row: a product event elsewhere is refused, by the live
// fold (nothing lands) and by a rebuild's fold alike.
TEST(CatalogProjectionTest, ProductEventsOffTheirOffersStreamAreRefused) {
  const std::string run = "0000000000000001aaaaaaaa";
  auto created = [&](uint64_t id) {
    return MakeEvent(ProductCreated{"main", id, run, std::string(64, 'a'), "{}", Summary("SKU", "1.00")});
  };
  testing::TempDir dir;
  {
    EventLogOptions o = SyncLogOptions();
    o.projections.clear();  // only the projections this test registers
    o.projections.push_back(std::make_unique<CatalogProjection>());
    auto log = EventLog::Open(dir.Sub("live"), std::move(o));
    ASSERT_OK(log);
    for (const char* stream : {"product-main-2", "product-test", "run-x"}) {
      Step s;
      s.streams.push_back({stream, kAnyVersion, {created(1)}});
      auto r = (*log)->Append(std::move(s));
      EXPECT_EQ(r.status().code(), Status::Code::kInvalidArgument) << stream;
      EXPECT_NE(r.status().message().find("belongs on product-main-1"), std::string::npos) << r.status().ToString();
    }
    Step removed;
    removed.streams.push_back({"product-main-2", kAnyVersion, {MakeEvent(ProductRemoved{"main", 1, run})}});
    EXPECT_EQ((*log)->Append(std::move(removed)).status().code(), Status::Code::kInvalidArgument);
    EXPECT_EQ((*log)->Head().seq, 0u);
    auto counts = CatalogCounts(**log);
    ASSERT_OK(counts);
    EXPECT_TRUE(counts->empty());
  }
  // A log written without the catalog holds such an event; folding the catalog over it fails.
  auto bare = EventLog::Open(dir.Sub("bare"), [] {
    EventLogOptions o = SyncLogOptions();
    o.projections.clear();
    return o;
  }());
  ASSERT_OK(bare);
  Step s;
  s.streams.push_back({"product-main-2", kAnyVersion, {created(1)}});
  ASSERT_OK((*bare)->Append(std::move(s)));
  CatalogProjection catalog;
  MemoryStore folded;
  EXPECT_EQ(FoldLog(**bare, {&catalog}, folded).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace marketsync::testing
