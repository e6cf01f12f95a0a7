#include "tests/testutil/faulty_fs.h"

namespace marketsync::testing {

class FaultyFs::File final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(std::unique_ptr<rocksdb::FSWritableFile> f, FaultyFs* fs) : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = OnWrite(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, o, dbg);
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo& info, rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = OnWrite(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Append(data, o, info, dbg);
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = OnSync(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Sync(o, dbg);
  }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    if (rocksdb::IOStatus s = OnSync(); !s.ok()) return s;
    return FSWritableFileOwnerWrapper::Fsync(o, dbg);
  }

 private:
  rocksdb::IOStatus OnWrite() {
    switch (fs_->fault.load()) {
      case Fault::kNoSpace: ++fs_->injected; return rocksdb::IOStatus::NoSpace("injected", "No space left on device");
      case Fault::kWriteIoError: ++fs_->injected; return rocksdb::IOStatus::IOError("injected", "Input/output error");
      default: return rocksdb::IOStatus::OK();
    }
  }
  rocksdb::IOStatus OnSync() {
    if (fs_->fault.load() != Fault::kSyncIoError) return rocksdb::IOStatus::OK();
    ++fs_->injected;
    return rocksdb::IOStatus::IOError("injected on fsync", "Input/output error");
  }

  FaultyFs* fs_;
};

rocksdb::IOStatus FaultyFs::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                            std::unique_ptr<rocksdb::FSWritableFile>* result,
                                            rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
  if (s.ok()) *result = std::make_unique<File>(std::move(*result), this);
  return s;
}

std::unique_ptr<rocksdb::Env> EnvOver(const std::shared_ptr<rocksdb::FileSystem>& fs) {
  return rocksdb::NewCompositeEnv(fs);
}

}  // namespace marketsync::testing
