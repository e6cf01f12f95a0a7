#include "pglog/kv_reader.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "pglog/reader.h"

namespace marketsync::pglog {
namespace {

// A window of rows around the position, refilled from the database when the position leaves
// it: forward from the last key, backward from the first.
class PgKvIterator final : public KvIterator {
 public:
  PgKvIterator(PgConn& conn, std::string family, size_t page) : conn_(conn), family_(std::move(family)), page_(page) {}

  void Seek(std::string_view key) override { Load(">=", std::string(key), false); }
  void SeekForPrev(std::string_view key) override { Load("<=", std::string(key), true); }
  void SeekToFirst() override { Load(nullptr, "", false); }
  void SeekToLast() override { Load(nullptr, "", true); }
  bool Valid() const override { return status_.ok() && at_ < rows_.size(); }
  void Next() override {
    if (!Valid()) return;
    if (++at_ < rows_.size()) return;
    Load(">", rows_.back().first, false);
  }
  void Prev() override {
    if (!Valid()) return;
    if (at_ > 0) {
      --at_;
      return;
    }
    Load("<", rows_.front().first, true);
  }
  std::string_view key() const override { return rows_[at_].first; }
  std::string_view value() const override { return rows_[at_].second; }
  Status status() const override { return status_; }

 private:
  // Rows `op` `key` (all rows when op is null), nearest first; positioned on the nearest.
  void Load(const char* op, std::string key, bool backward) {
    std::string sql = "SELECT key, value FROM ms_kv WHERE family = $1";
    std::vector<PgParam> params{PgParam::Text(family_)};
    if (op != nullptr) {
      sql += std::string(" AND key ") + op + " $2";
      params.push_back(PgParam::Bytes(std::move(key)));
    }
    sql += backward ? " ORDER BY key DESC" : " ORDER BY key";
    sql += " LIMIT " + std::to_string(page_);
    auto r = conn_.Query(sql, params);
    rows_.clear();
    at_ = 0;
    if (!r.ok()) {
      status_ = r.status();
      return;
    }
    for (auto& row : r->rows) rows_.emplace_back(std::move(*row[0]), std::move(*row[1]));
    if (backward) {
      std::reverse(rows_.begin(), rows_.end());
      at_ = rows_.empty() ? 0 : rows_.size() - 1;
    }
  }

  PgConn& conn_;
  const std::string family_;
  const size_t page_;
  std::vector<std::pair<std::string, std::string>> rows_;  // in key order
  size_t at_ = 0;
  Status status_;
};

}  // namespace

Result<std::optional<std::string>> PgKvReader::Get(std::string_view cf, std::string_view key) const {
  return GetKv(conn_, cf, key);
}

Result<std::unique_ptr<KvIterator>> PgKvReader::Scan(std::string_view cf) const {
  return std::unique_ptr<KvIterator>(std::make_unique<PgKvIterator>(conn_, std::string(cf), page_));
}

}  // namespace marketsync::pglog
