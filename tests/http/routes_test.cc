// The route table: matching with {name} segments, the methods a path takes, and labels that
// fold ids away.

#include "http/internal/routes.h"

#include <gtest/gtest.h>

namespace marketsync::http {
namespace {

RouteTable Table() {
  RouteTable t;
  auto reply = [](const char* what) { return [what](const Request&) { return Reply{200, what, "text/plain", {}}; }; };
  t.Add({"POST", "/p/sync", Access::kCommand, reply("start")});
  t.Add({"GET", "/p/sync/{id}/events", Access::kRead, reply("events")});
  t.Add({"GET", "/p/sync/{id}", Access::kRead, reply("run")});
  t.Add({"DELETE", "/p/sync/{id}", Access::kCommand, reply("cancel")});
  t.Add({"GET", "/healthz", Access::kOpen, reply("ok")});
  return t;
}

TEST(RoutesTest, PatternsMatchOneSegmentPerName) {
  std::vector<std::string> args;
  EXPECT_TRUE(MatchPattern("/p/sync/{id}", "/p/sync/abc", &args));
  EXPECT_EQ(args, std::vector<std::string>{"abc"});
  EXPECT_TRUE(MatchPattern("/p/sync/{id}/events", "/p/sync/r-1/events", &args));
  EXPECT_EQ(args, std::vector<std::string>{"r-1"});
  EXPECT_TRUE(MatchPattern("/p/offers/{account}/{offer_id}/history", "/p/offers/main/42/history", &args));
  EXPECT_EQ(args, (std::vector<std::string>{"main", "42"}));
  EXPECT_FALSE(MatchPattern("/p/offers/{account}/{offer_id}/history", "/p/offers/main//history", &args));
  EXPECT_FALSE(MatchPattern("/p/offers/{account}/{offer_id}/history", "/p/offers/main/history", &args));
  EXPECT_FALSE(MatchPattern("/p/sync/{id}", "/p/sync/", &args));
  EXPECT_FALSE(MatchPattern("/p/sync/{id}", "/p/sync/a/b", &args));
  EXPECT_FALSE(MatchPattern("/p/sync/{id}", "/p/syncx", &args));
  EXPECT_FALSE(MatchPattern("/p/sync/{id}", "/p/sync", &args));
  EXPECT_TRUE(MatchPattern("/healthz", "/healthz", nullptr));
  EXPECT_FALSE(MatchPattern("/healthz", "/healthz/", nullptr));
  EXPECT_FALSE(MatchPattern("/healthz", "/health", nullptr));
}

TEST(RoutesTest, FindPicksTheRouteOfTheMethod) {
  const RouteTable t = Table();
  auto run = t.Find("GET", "/p/sync/abc");
  ASSERT_NE(run.route, nullptr);
  EXPECT_EQ(run.route->handler(Request{}).body, "run");
  EXPECT_EQ(run.args, std::vector<std::string>{"abc"});
  auto cancel = t.Find("DELETE", "/p/sync/abc");
  ASSERT_NE(cancel.route, nullptr);
  EXPECT_EQ(cancel.route->access, Access::kCommand);
  auto head = t.Find("HEAD", "/healthz");  // HEAD is served as GET
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(t.Find("PUT", "/p/sync/abc").route, nullptr);
  EXPECT_EQ(t.Find("GET", "/nowhere").route, nullptr);
}

TEST(RoutesTest, AllowedListsEveryMethodOfAPathOnce) {
  const RouteTable t = Table();
  EXPECT_EQ(t.Allowed("/p/sync/abc"), "GET, DELETE");
  EXPECT_EQ(t.Allowed("/p/sync"), "POST");
  EXPECT_EQ(t.Allowed("/p/sync/abc/events"), "GET");
  EXPECT_EQ(t.Allowed("/nowhere"), "");
}

TEST(RoutesTest, LabelsFoldIdsAway) {
  const RouteTable t = Table();
  EXPECT_EQ(t.Label("/p/sync/0006619c24a581f5c3ebb7a2"), "/p/sync/{id}");
  EXPECT_EQ(t.Label("/p/sync/x/events"), "/p/sync/{id}/events");
  EXPECT_EQ(t.Label("/healthz"), "/healthz");
  EXPECT_EQ(t.Label("/../etc/passwd"), "other");
}

}  // namespace
}  // namespace marketsync::http
