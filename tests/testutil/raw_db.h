#pragma once

// The raw RocksDB database under an event log, opened with every column family, for surgery
// (tamper and corruption tests). Open it only while no EventLog has the database open.

#include <memory>
#include <string>
#include <vector>

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace marketsync::testing {

class RawDb {
 public:
  explicit RawDb(const std::string& path);
  ~RawDb();
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  std::string GetEvent(uint64_t seq);
  void PutEvent(uint64_t seq, const std::string& value);
  void DeleteEvent(uint64_t seq);
  // Any column family; Get returns "" for an absent key.
  std::string Get(const std::string& cf, const std::string& key);
  void Put(const std::string& cf, const std::string& key, const std::string& value);
  void Delete(const std::string& cf, const std::string& key);
  // Writes every memtable out to SST files (reads then go through the files' filters).
  void Flush();
  // The first key of a column family ("" when empty).
  std::string FirstKey(const std::string& cf);

 private:
  rocksdb::ColumnFamilyHandle* cf(const std::string& name);
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace marketsync::testing
