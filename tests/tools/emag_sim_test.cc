#include <gtest/gtest.h>
#include <httplib.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "tests/testutil/loopback.h"
#include "tests/testutil/status_matchers.h"
#include "tools/emag-sim/catalog.h"
#include "tools/emag-sim/faults.h"
#include "tools/emag-sim/simulator.h"

namespace marketsync::sim {
namespace {

namespace json = boost::json;

std::map<uint64_t, std::string> Rendered(const Catalog& c) {
  std::map<uint64_t, std::string> out;
  for (const auto& o : c.offers()) out[o.id] = c.RenderJson(o);
  return out;
}

TEST(CatalogTest, SameSeedSameCatalogue) {
  Catalog a(42, 0, 1275), b(42, 0, 1275), other(43, 0, 1275);
  EXPECT_EQ(Rendered(a), Rendered(b));
  EXPECT_NE(Rendered(a), Rendered(other));
  EXPECT_EQ(a.offers().size(), 1275u);
}

TEST(CatalogTest, RealisticValues) {
  Catalog c(42, 0, 1275);
  std::map<std::string, int> part_numbers;
  std::map<int, int> statuses;
  for (const auto& o : c.offers()) {
    json::value v = json::parse(c.RenderJson(o));
    const auto& obj = v.as_object();
    const std::string ean(obj.at("ean").as_array()[0].as_string());
    ASSERT_EQ(ean.size(), 13u);
    EXPECT_EQ(ean.back(), Ean13CheckDigit(ean.substr(0, 12))) << ean;
    ++part_numbers[std::string(obj.at("part_number").as_string())];
    ++statuses[static_cast<int>(obj.at("status").as_int64())];
    EXPECT_FALSE(obj.at("name").as_string().empty());
    EXPECT_EQ(obj.at("currency").as_string(), "RON");
    for (const char* field : {"id", "part_number_key", "brand", "description", "url", "category_id",
                              "sale_price", "recommended_price", "min_sale_price", "max_sale_price",
                              "stock", "general_stock", "estimated_stock", "handling_time", "images",
                              "characteristics", "family", "number_of_offers", "buy_button_rank",
                              "ownership", "validation_status", "offer_validation_status",
                              "translation_validation_status", "doc_errors", "genius_eligibility",
                              "genius_eligibility_type", "manufacturer", "eu_representative",
                              "safety_information", "vat_id", "warranty", "vendor_category_id",
                              "best_offer_sale_price", "best_offer_recommended_price"}) {
      ASSERT_TRUE(obj.contains(field)) << field;
    }
  }
  int duplicates = 0;
  for (const auto& [pn, n] : part_numbers) duplicates += n > 1 ? 1 : 0;
  EXPECT_GE(duplicates, 1);
  EXPECT_GT(statuses[0], 0);
  EXPECT_GT(statuses[2], 0);
  EXPECT_GT(statuses[1], 1000);
  EXPECT_EQ(Ean13CheckDigit("400638133393"), '1');  // a known EAN: 4006381333931
}

TEST(CatalogTest, AccountsSellTheSameSkusUnderDifferentIds) {
  Catalog main(42, 0, 300), fbe(42, 1, 300);
  std::set<uint64_t> main_ids, fbe_ids;
  std::map<uint64_t, std::string> sku_by_product;
  for (const auto& o : main.offers()) {
    main_ids.insert(o.id);
    sku_by_product[o.product] = o.part_number;
  }
  int same_sku = 0;
  for (const auto& o : fbe.offers()) {
    fbe_ids.insert(o.id);
    same_sku += sku_by_product[o.product] == o.part_number ? 1 : 0;
  }
  for (uint64_t id : fbe_ids) EXPECT_FALSE(main_ids.contains(id));
  EXPECT_GT(same_sku, 290);
}

TEST(CatalogTest, TickChangesExactlyWhatItReports) {
  Catalog c(7, 0, 1000);
  const auto before = Rendered(c);
  const TickChanges changes = c.Tick();
  const auto after = Rendered(c);
  EXPECT_FALSE(changes.created.empty());
  EXPECT_FALSE(changes.updated.empty());
  EXPECT_FALSE(changes.removed.empty());
  std::set<uint64_t> created, updated, removed;
  for (const auto& [id, text] : after) {
    auto it = before.find(id);
    if (it == before.end()) {
      created.insert(id);
    } else if (it->second != text) {
      updated.insert(id);
    }
  }
  for (const auto& [id, text] : before) {
    if (!after.contains(id)) removed.insert(id);
  }
  EXPECT_EQ(created, std::set<uint64_t>(changes.created.begin(), changes.created.end()));
  EXPECT_EQ(updated, std::set<uint64_t>(changes.updated.begin(), changes.updated.end()));
  EXPECT_EQ(removed, std::set<uint64_t>(changes.removed.begin(), changes.removed.end()));
  // Deterministic: the same seed drifts the same way.
  Catalog again(7, 0, 1000);
  const TickChanges same = again.Tick();
  EXPECT_EQ(same.created, changes.created);
  EXPECT_EQ(same.updated, changes.updated);
  EXPECT_EQ(same.removed, changes.removed);
  EXPECT_EQ(Rendered(again), after);
}

TEST(FaultScriptTest, RejectsBadScriptsAndKeepsTheOldOne) {
  FaultScript f(1);
  ASSERT_OK(f.Load(R"({"rules":[{"account":"main","page":2,"fault":"http_500","times":1}]})"));
  EXPECT_FALSE(f.Load("not json").ok());
  EXPECT_FALSE(f.Load(R"({"rules":[{"fault":"explode"}]})").ok());
  EXPECT_FALSE(f.Load(R"({"rules":[{"page":2}]})").ok());
  EXPECT_FALSE(f.Load(R"({"rules":[{"fault":"http_500","probability":2}]})").ok());
  EXPECT_FALSE(f.Match({"main", "read", 1, 1}).has_value());
  auto hit = f.Match({"main", "read", 2, 2});
  ASSERT_TRUE(hit.has_value());
  EXPECT_EQ(hit->fault, FaultKind::kHttp500);
  EXPECT_FALSE(f.Match({"main", "read", 2, 3}).has_value());  // times: 1
}

TEST(FaultScriptTest, NthAndProbability) {
  FaultScript f(1);
  ASSERT_OK(f.Load(R"([{"nth":3,"fault":"reset"},{"account":"fbe","probability":0.5,"fault":"http_502"}])"));
  EXPECT_FALSE(f.Match({"main", "count", 0, 2}).has_value());
  EXPECT_TRUE(f.Match({"main", "count", 0, 3}).has_value());
  int hits = 0;
  for (uint64_t n = 10; n < 1010; ++n) hits += f.Match({"fbe", "read", 1, n}).has_value() ? 1 : 0;
  EXPECT_GT(hits, 400);
  EXPECT_LT(hits, 600);
}

TEST(SimulatorTest, ControlRoutesOverHttp) {
  SimulatorOptions o;
  o.offers = 100;
  o.log_requests = false;
  auto sim = Simulator::Start(o, "127.0.0.1", 0);
  ASSERT_OK(sim);
  httplib::Client c("127.0.0.1", (*sim)->port());
  auto before = (*sim)->OffersForTest("fbe");
  ASSERT_OK(before);
  auto tick = c.Post("/_sim/accounts/fbe/tick", "", "application/json");
  ASSERT_TRUE(tick);
  ASSERT_EQ(tick->status, 200);
  json::value changes = json::parse(tick->body);
  EXPECT_FALSE(changes.at("created").as_array().empty());
  EXPECT_EQ(c.Post("/_sim/accounts/nobody/tick", "", "application/json")->status, 404);
  auto put = c.Put("/_sim/faults", R"({"rules":[{"fault":"http_502","times":1}]})", "application/json");
  ASSERT_TRUE(put);
  EXPECT_EQ(put->status, 200);
  EXPECT_EQ(c.Put("/_sim/faults", "{", "application/json")->status, 400);
  EXPECT_NE(c.Get("/_sim/faults")->body.find("http_502"), std::string::npos);
  EXPECT_EQ(c.Delete("/_sim/faults")->status, 200);
  EXPECT_EQ(c.Get("/_sim/health")->status, 200);
  auto stats = c.Get("/_sim/accounts/main/stats");
  ASSERT_TRUE(stats);
  EXPECT_EQ(stats->status, 200);
  (*sim)->Stop();
  (*sim)->Stop();  // idempotent
}

// Sends `request` on a new connection and reads until the server closes it or `want` bytes came.
std::string Exchange(int port, const std::string& request, size_t want = SIZE_MAX) {
  const int fd = testing::ConnectLoopback(port);
  if (fd < 0) return "";
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  ::send(fd, request.data(), request.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (ssize_t n; out.size() < want && (n = ::recv(fd, buf, sizeof(buf), 0)) > 0;) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

int ThreadsNamed(std::string_view prefix) {
  int n = 0;
  for (const auto& task : std::filesystem::directory_iterator("/proc/self/task")) {
    std::ifstream in(task.path() / "comm");
    std::string name;
    std::getline(in, name);
    if (name.starts_with(prefix)) ++n;
  }
  return n;
}

TEST(SimulatorTest, BadRequestsGetAClearAnswerAndTheConnectionCloses) {
  SimulatorOptions o;
  o.offers = 10;
  o.log_requests = false;
  auto sim = Simulator::Start(o, "127.0.0.1", 0);
  ASSERT_OK(sim);
  const int port = (*sim)->port();
  EXPECT_TRUE(Exchange(port, "NOT HTTP AT ALL\r\n\r\n").starts_with("HTTP/1.1 400")) << "garbage";
  // Refused on its header alone (the body is not sent: a server closing on unread bytes resets).
  const std::string oversized = "POST /api-3/product_offer/read HTTP/1.1\r\nHost: x\r\nContent-Length: " +
                                std::to_string(size_t{2} << 20) + "\r\n\r\n";
  EXPECT_TRUE(Exchange(port, oversized).starts_with("HTTP/1.1 413")) << "a 2 MB body";
  httplib::Client c("127.0.0.1", port);
  EXPECT_EQ(c.Get("/nowhere")->status, 404);
  EXPECT_EQ(c.Post("/_sim/health", "", "application/json")->status, 404) << "a route answers its own method only";
  EXPECT_EQ(c.Post("/api-3/product_offer/count", "{}", "application/json")->status, 401) << "no credentials";
  auto stats = (*sim)->Stats("main");
  ASSERT_OK(stats);
  EXPECT_EQ(stats->requests, 0u) << "nothing reached an account";
}

// Connections wait on the front's few threads, not a thread each: a thousand kept-alive
// connections are all answered, the next request on each too, by the same four threads.
TEST(SimulatorTest, AThousandConnectionsShareAFewThreads) {
  SimulatorOptions o;
  o.offers = 10;
  o.latency_ms = 200;  // every answer waits on a timer meanwhile
  o.log_requests = false;
  struct rlimit files {};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &files), 0);
  files.rlim_cur = files.rlim_max;  // both ends of a thousand connections live in this process
  ::setrlimit(RLIMIT_NOFILE, &files);
  if (files.rlim_cur < 2100) GTEST_SKIP() << "needs 2,100 open files, the hard limit is " << files.rlim_max;
  auto sim = Simulator::Start(o, "127.0.0.1", 0);
  ASSERT_OK(sim);
  const int threads = ThreadsNamed("emag-sim");
  EXPECT_EQ(threads, 4) << "2 readers and 2 workers";
  const std::string health = "GET /_sim/health HTTP/1.1\r\nHost: x\r\n\r\n";
  std::vector<int> fds;
  for (int i = 0; i < 1000; ++i) {
    const int fd = testing::ConnectLoopback((*sim)->port());
    ASSERT_GE(fd, 0) << "connection " << i;
    fds.push_back(fd);
  }
  for (int round = 0; round < 2; ++round) {
    for (int fd : fds) ASSERT_EQ(::send(fd, health.data(), health.size(), MSG_NOSIGNAL), static_cast<ssize_t>(health.size()));
    int answered = 0;
    for (int fd : fds) {
      char buf[512];
      const ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
      if (n > 0 && std::string_view(buf, static_cast<size_t>(n)).starts_with("HTTP/1.1 200")) ++answered;
    }
    EXPECT_EQ(answered, 1000) << "round " << round;
    EXPECT_EQ(ThreadsNamed("emag-sim"), threads);
  }
  for (int fd : fds) ::close(fd);
}

TEST(SimulatorTest, StopCutsLatencyShort) {
  SimulatorOptions o;
  o.offers = 10;
  o.latency_ms = 20000;
  o.log_requests = false;
  auto sim = Simulator::Start(o, "127.0.0.1", 0);
  ASSERT_OK(sim);
  std::thread client([port = (*sim)->port()] {
    httplib::Client c("127.0.0.1", port);
    c.set_basic_auth("demo-main", "demo-main-secret");
    c.Post("/api-3/product_offer/count", "{}", "application/json");
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const auto start = std::chrono::steady_clock::now();
  (*sim)->Stop();
  client.join();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace marketsync::sim
