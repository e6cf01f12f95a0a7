// BatchStore, the write overlay of a group's WriteBatch: reads see the database under the
// overlay, a rolled-back step leaves nothing behind, and Finish puts each key into the batch
// once, in the order keys were first written.

#include "events/internal/batch_store.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/testutil/status_matchers.h"
#include "tests/testutil/temp_dir.h"

namespace marketsync::internal {
namespace {

class BatchStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> families = {{rocksdb::kDefaultColumnFamilyName, {}},
                                                             {"rows", {}}, {"other", {}}};
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir_.Sub("db"), families, &handles_, &db).ok());
    db_.reset(db);
    rows_ = handles_[1];
    other_ = handles_[2];
    ASSERT_TRUE(db_->Put(rocksdb::WriteOptions(), rows_, "stored", "on disk").ok());
    owned_["rows"] = rows_;
    store_ = std::make_unique<BatchStore>(db_.get(), &batch_);
    store_->SetOwner(&owned_, "test");
  }
  void TearDown() override {
    store_.reset();
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    db_.reset();
  }
  std::optional<std::string> Read(std::string_view key) {
    auto v = store_->Get("rows", key);
    EXPECT_TRUE(v.ok()) << v.status().ToString();
    return v.ok() ? *v : std::nullopt;
  }
  // What the batch holds, in order: (key, value or "<deleted>").
  std::vector<std::pair<std::string, std::string>> BatchContents() {
    struct Collect : rocksdb::WriteBatch::Handler {
      std::vector<std::pair<std::string, std::string>> entries;
      rocksdb::Status PutCF(uint32_t, const rocksdb::Slice& k, const rocksdb::Slice& v) override {
        entries.emplace_back(k.ToString(), v.ToString());
        return rocksdb::Status::OK();
      }
      rocksdb::Status DeleteCF(uint32_t, const rocksdb::Slice& k) override {
        entries.emplace_back(k.ToString(), "<deleted>");
        return rocksdb::Status::OK();
      }
    } collect;
    EXPECT_TRUE(batch_.Iterate(&collect).ok());
    return collect.entries;
  }

  testing::TempDir dir_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  rocksdb::ColumnFamilyHandle* rows_ = nullptr;
  rocksdb::ColumnFamilyHandle* other_ = nullptr;
  std::map<std::string, rocksdb::ColumnFamilyHandle*, std::less<>> owned_;
  rocksdb::WriteBatch batch_;
  std::unique_ptr<BatchStore> store_;
};

TEST_F(BatchStoreTest, ReadsSeeTheDatabaseUnderTheOverlay) {
  EXPECT_EQ(Read("stored"), "on disk");
  EXPECT_EQ(Read("absent"), std::nullopt);
  ASSERT_OK(store_->Put("rows", "stored", "in the overlay"));
  EXPECT_EQ(Read("stored"), "in the overlay");
  ASSERT_OK(store_->Put("rows", "new", "row"));
  EXPECT_EQ(Read("new"), "row");
  ASSERT_OK(store_->Delete("rows", "stored"));
  EXPECT_EQ(Read("stored"), std::nullopt);
  // Nothing reached the database or the batch yet.
  std::string value;
  ASSERT_TRUE(db_->Get(rocksdb::ReadOptions(), rows_, "stored", &value).ok());
  EXPECT_EQ(value, "on disk");
  EXPECT_EQ(batch_.Count(), 0u);
}

TEST_F(BatchStoreTest, FinishPutsEachKeyOnceInFirstWriteOrder) {
  ASSERT_OK(store_->Put("rows", "b", "1"));
  ASSERT_OK(store_->Put("rows", "a", "1"));
  ASSERT_OK(store_->Put("rows", "b", "2"));
  ASSERT_OK(store_->Delete("rows", "stored"));
  ASSERT_OK(store_->Put("rows", "a", "3"));
  ASSERT_OK(store_->Finish());
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(BatchContents(), (Entries{{"b", "2"}, {"a", "3"}, {"stored", "<deleted>"}}));
  // Finish empties the overlay: reads see the database again.
  EXPECT_EQ(Read("a"), std::nullopt);
  EXPECT_EQ(Read("stored"), "on disk");
}

TEST_F(BatchStoreTest, RollbackUndoesOneStepAndKeepsTheOnesBefore) {
  ASSERT_OK(store_->Put("rows", "kept", "before"));
  ASSERT_OK(store_->Put("rows", "changed", "before"));
  store_->Mark();
  ASSERT_OK(store_->Put("rows", "changed", "during"));
  ASSERT_OK(store_->Delete("rows", "kept"));
  ASSERT_OK(store_->Put("rows", "stored", "during"));
  for (int i = 0; i < 5000; ++i) ASSERT_OK(store_->Put("rows", "new-" + std::to_string(i), "x"));  // the index grows
  store_->Rollback();
  EXPECT_EQ(Read("kept"), "before");
  EXPECT_EQ(Read("changed"), "before");
  EXPECT_EQ(Read("stored"), "on disk");
  EXPECT_EQ(Read("new-17"), std::nullopt);
  // Writes after the rollback land as usual.
  ASSERT_OK(store_->Put("rows", "after", "1"));
  ASSERT_OK(store_->Finish());
  using Entries = std::vector<std::pair<std::string, std::string>>;
  EXPECT_EQ(BatchContents(), (Entries{{"kept", "before"}, {"changed", "before"}, {"after", "1"}}));
}

TEST_F(BatchStoreTest, AProjectionMayTouchOnlyItsOwnFamilies) {
  Status s = store_->Put("other", "k", "v");
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument);
  EXPECT_NE(s.message().find("projection test touched a column family it does not own: other"), std::string::npos)
      << s.ToString();
  EXPECT_FALSE(store_->Get("other", "k").ok());
  // The log's own writes (step writes, expectations) go through the raw calls, to any family.
  ASSERT_OK(store_->PutRaw(other_, "k", "v"));
  auto v = store_->GetRaw(other_, "k");
  ASSERT_OK(v);
  EXPECT_EQ(*v, "v");
}

}  // namespace
}  // namespace marketsync::internal
