#pragma once

// A RocksDB file system that fails writes on demand, the way a full or failing disk does, for
// the fail-stop tests: every writable file (WAL, SST, MANIFEST) answers its appends with
// ENOSPC, or with EIO, or its syncs with EIO. Give the log EnvOver(fs) as env_for_test.

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <atomic>
#include <memory>
#include <string>

namespace marketsync::testing {

class FaultyFs final : public rocksdb::FileSystemWrapper {
 public:
  enum class Fault : uint8_t {
    kNone,
    kNoSpace,        // appends fail: "No space left on device"
    kWriteIoError,   // appends fail: "Input/output error"
    kSyncIoError,    // appends land in the page cache, fsync fails: "Input/output error"
  };

  FaultyFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "FaultyFs"; }

  std::atomic<Fault> fault{Fault::kNone};
  std::atomic<uint64_t> injected{0};  // faults answered so far

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;

 private:
  class File;
};

// An Env whose file system is `fs` (it must outlive the Env).
std::unique_ptr<rocksdb::Env> EnvOver(const std::shared_ptr<rocksdb::FileSystem>& fs);

}  // namespace marketsync::testing
