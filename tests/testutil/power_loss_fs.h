#pragma once

// A RocksDB file system that knows what a power cut would keep, after the model of RocksDB's
// own FaultInjectionTestFS (utilities/fault_injection_fs.h, which Debian does not install):
//
//  - a file's bytes are durable up to its last Sync/Fsync; what was appended after is in the
//    page cache only;
//  - a new name (a created file, a rename's target) and a removed one (a delete, a rename's
//    source) become durable only when their directory is fsynced; until then a cut brings the
//    old directory back (a deleted file reappears with its synced bytes, a renamed one goes back
//    to its old name);
//  - the directory's own name, when this file system saw it created, is durable once its parent
//    is fsynced; until then a cut takes the whole directory.
//
// Cut() freezes the file system: every later write, sync, create, rename or delete fails with
// an I/O error (as a machine without power would), reads go on. After the database is closed,
// Restore() rewrites the directory to what the cut kept, each file optionally with a random
// prefix of its unsynced tail (a torn write). Syncs are not passed down: durability here is
// what this class records, which makes a campaign of thousands of cuts fast.
//
// Give the log EnvOver(fs) (faulty_fs.h) as env_for_test. Every file ever created keeps a hard link in a sibling directory `<dir>.power-loss` until
// Restore, so a deleted or replaced file's bytes can come back.

#include <rocksdb/file_system.h>

#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

namespace marketsync::testing {

class PowerLossFs final : public rocksdb::FileSystemWrapper {
 public:
  // Tracks the files in `dir` (its files now count as durable); other paths pass through.
  explicit PowerLossFs(std::string dir);
  ~PowerLossFs() override;
  const char* Name() const override { return "PowerLossFs"; }

  // The power goes out now. Thread-safe.
  void Cut();
  // After the database on this file system is closed: leaves in the directory exactly what the
  // cut kept; with `torn`, each file keeps a random prefix of its unsynced bytes (seeded by
  // `rng`). Returns a line per file whose content or presence changed, for a failure's report.
  std::string Restore(std::mt19937_64& rng, bool torn);

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old_name,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& name, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result, rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& name, size_t size, const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& name, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& name, const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;

 private:
  class File;
  class Directory;
  struct Node;  // one file's bytes (by its hard link) and how many of them are synced

  bool Tracked(const std::string& path) const;
  rocksdb::IOStatus Frozen() const;
  std::shared_ptr<Node> AdoptLocked(const std::string& path, uint64_t size, uint64_t synced);
  void SyncDirLocked();

  const std::string dir_;
  const std::string keep_dir_;  // `<dir>.power-loss`: a hard link to every tracked file
  mutable std::mutex mu_;       // guards everything below; held across the writes it orders
  bool cut_ = false;
  bool dir_named_ = true;  // the directory's name in its parent is durable
  uint64_t next_id_ = 0;
  std::map<std::string, std::shared_ptr<Node>> live_;     // file name in dir_ -> its bytes now
  std::map<std::string, std::shared_ptr<Node>> durable_;  // ... as of the last directory fsync
};

}  // namespace marketsync::testing
