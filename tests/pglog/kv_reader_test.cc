// KvReader over PostgreSQL (issue 17): Get, and iteration in both directions across pages,
// checked operation by operation against a std::map holding the same rows.
#include "pglog/kv_reader.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tests/pglog/pg_fixture.h"
#include "tests/testutil/status_matchers.h"

namespace marketsync::pglog {
namespace {

class PgKvReaderTest : public PgFixture {};

std::string RandomKey(std::mt19937& rng) {
  std::string k(1 + rng() % 6, '\0');
  for (char& c : k) c = static_cast<char>(rng() % 4 == 0 ? "\x00\x7f\x80\xff"[rng() % 4] : 'a' + rng() % 6);
  return k;
}

TEST_F(PgKvReaderTest, IteratesLikeAnOrderedMapAcrossPagesBothWays) {
  std::mt19937 rng(17);
  std::map<std::string, std::string> model;  // std::string compares as memcmp on unsigned bytes
  while (model.size() < 300) model[RandomKey(rng)] = "v" + std::to_string(model.size());
  for (const auto& [k, v] : model) {
    ASSERT_OK(conn_->Exec("INSERT INTO ms_kv (family, key, value) VALUES ('p', $1, $2)", {PgParam::Bytes(k), PgParam::Bytes(v)}));
  }
  ASSERT_OK(conn_->Exec("INSERT INTO ms_kv (family, key, value) VALUES ('other', 'a', 'x'), ('q', '\\x00', 'y')"));

  PgKvReader reader(*conn_, 7);  // small pages: every few steps crosses one
  auto it = reader.Scan("p");
  ASSERT_OK(it);
  auto at = model.end();  // the model's position; end() is "not valid"
  for (int op = 0; op < 3000; ++op) {
    const std::string k = RandomKey(rng);
    switch (rng() % 6) {
      case 0:
        (*it)->Seek(k);
        at = model.lower_bound(k);
        break;
      case 1: {
        (*it)->SeekForPrev(k);
        auto up = model.upper_bound(k);
        at = up == model.begin() ? model.end() : std::prev(up);
        break;
      }
      case 2:
        (*it)->SeekToFirst();
        at = model.begin();
        break;
      case 3:
        (*it)->SeekToLast();
        at = model.empty() ? model.end() : std::prev(model.end());
        break;
      case 4:
        if (at == model.end()) continue;
        (*it)->Next();
        ++at;
        break;
      case 5:
        if (at == model.end()) continue;
        (*it)->Prev();
        at = at == model.begin() ? model.end() : std::prev(at);
        break;
    }
    ASSERT_OK((*it)->status());
    ASSERT_EQ((*it)->Valid(), at != model.end()) << "op " << op;
    if (at != model.end()) {
      ASSERT_EQ((*it)->key(), at->first) << "op " << op;
      ASSERT_EQ((*it)->value(), at->second) << "op " << op;
    }
  }

  auto got = reader.Get("p", model.begin()->first);
  ASSERT_OK(got);
  EXPECT_EQ(*got, std::optional<std::string>(model.begin()->second));
  auto absent = reader.Get("other", "b");
  ASSERT_OK(absent);
  EXPECT_FALSE(absent->has_value());
  auto empty = reader.Scan("nothing");
  ASSERT_OK(empty);
  (*empty)->SeekToFirst();
  EXPECT_FALSE((*empty)->Valid()) << "a family with no rows reads as empty";
}

}  // namespace
}  // namespace marketsync::pglog
