#include "tests/testutil/raw_db.h"

#include <gtest/gtest.h>
#include <rocksdb/db.h>

#include "events/envelope_codec.h"

namespace marketsync::testing {

RawDb::RawDb(const std::string& path) {
  std::vector<std::string> names;
  EXPECT_TRUE(rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), path, &names).ok());
  std::vector<rocksdb::ColumnFamilyDescriptor> d;
  for (auto& n : names) d.emplace_back(n, rocksdb::ColumnFamilyOptions());
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(rocksdb::DBOptions(), path, d, &handles_, &db);
  EXPECT_TRUE(s.ok()) << s.ToString();
  db_.reset(db);
}

RawDb::~RawDb() {
  for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
}

rocksdb::ColumnFamilyHandle* RawDb::cf(const std::string& name) {
  for (auto* h : handles_) {
    if (h->GetName() == name) return h;
  }
  ADD_FAILURE() << "no column family " << name;
  return handles_.front();
}

std::string RawDb::GetEvent(uint64_t seq) { return Get("events", EncodeSeqKey(seq)); }
void RawDb::PutEvent(uint64_t seq, const std::string& value) { Put("events", EncodeSeqKey(seq), value); }
void RawDb::DeleteEvent(uint64_t seq) { Delete("events", EncodeSeqKey(seq)); }

std::string RawDb::Get(const std::string& family, const std::string& key) {
  std::string v;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), cf(family), key, &v);
  EXPECT_TRUE(s.ok() || s.IsNotFound()) << s.ToString();
  return v;
}

void RawDb::Put(const std::string& family, const std::string& key, const std::string& value) {
  EXPECT_TRUE(db_->Put(rocksdb::WriteOptions(), cf(family), key, value).ok());
}

void RawDb::Delete(const std::string& family, const std::string& key) {
  EXPECT_TRUE(db_->Delete(rocksdb::WriteOptions(), cf(family), key).ok());
}

void RawDb::Flush() {
  rocksdb::Status s = db_->Flush(rocksdb::FlushOptions(), handles_);
  EXPECT_TRUE(s.ok()) << s.ToString();
}

std::string RawDb::FirstKey(const std::string& family) {
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(rocksdb::ReadOptions(), cf(family)));
  it->SeekToFirst();
  return it->Valid() ? it->key().ToString() : std::string();
}

}  // namespace marketsync::testing
