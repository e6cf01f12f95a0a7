#include "tests/testutil/power_loss_fs.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <vector>

namespace marketsync::testing {

namespace fs = std::filesystem;

struct PowerLossFs::Node {
  std::string keep;      // the hard link that holds the bytes whatever happens to the name
  uint64_t written = 0;  // bytes the file has (page cache included)
  uint64_t synced = 0;   // bytes a power cut keeps
};

namespace {

std::string Base(const std::string& path) { return fs::path(path).filename().string(); }

// Absolute, without dots or a trailing slash: how paths are compared here.
std::string Normal(const std::string& path) {
  fs::path p = fs::absolute(path).lexically_normal();
  if (!p.has_filename() && p.has_parent_path()) p = p.parent_path();
  return p.string();
}

}  // namespace

// A writable file whose appends and syncs are recorded on its node.
class PowerLossFs::File final : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  File(std::unique_ptr<rocksdb::FSWritableFile> f, PowerLossFs* fs, std::shared_ptr<Node> node)
      : FSWritableFileOwnerWrapper(std::move(f)), fs_(fs), node_(std::move(node)) {}

  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           rocksdb::IODebugContext* dbg) override {
    std::lock_guard lk(fs_->mu_);
    if (fs_->cut_) return fs_->Frozen();
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Append(data, o, dbg);
    if (s.ok()) node_->written += data.size();
    return s;
  }
  rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                           const rocksdb::DataVerificationInfo&, rocksdb::IODebugContext* dbg) override {
    return Append(data, o, dbg);
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& o,
                                     rocksdb::IODebugContext* dbg) override {
    std::lock_guard lk(fs_->mu_);
    if (fs_->cut_) return fs_->Frozen();
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::PositionedAppend(data, offset, o, dbg);
    if (s.ok()) node_->written = std::max(node_->written, offset + data.size());
    return s;
  }
  rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t offset, const rocksdb::IOOptions& o,
                                     const rocksdb::DataVerificationInfo&, rocksdb::IODebugContext* dbg) override {
    return PositionedAppend(data, offset, o, dbg);
  }
  rocksdb::IOStatus Truncate(uint64_t size, const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    std::lock_guard lk(fs_->mu_);
    if (fs_->cut_) return fs_->Frozen();
    rocksdb::IOStatus s = FSWritableFileOwnerWrapper::Truncate(size, o, dbg);
    if (s.ok()) {
      node_->written = size;
      node_->synced = std::min(node_->synced, size);
    }
    return s;
  }
  rocksdb::IOStatus Sync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return MarkSynced(); }
  rocksdb::IOStatus Fsync(const rocksdb::IOOptions&, rocksdb::IODebugContext*) override { return MarkSynced(); }
  // sync_file_range is a hint about writeback, not a durability point.
  rocksdb::IOStatus RangeSync(uint64_t, uint64_t, const rocksdb::IOOptions&, rocksdb::IODebugContext*) override {
    return rocksdb::IOStatus::OK();
  }
  bool IsSyncThreadSafe() const override { return true; }

 private:
  rocksdb::IOStatus MarkSynced() {
    std::lock_guard lk(fs_->mu_);
    if (fs_->cut_) return fs_->Frozen();
    node_->synced = node_->written;
    return rocksdb::IOStatus::OK();
  }

  PowerLossFs* fs_;
  std::shared_ptr<Node> node_;
};

// A directory whose fsync makes the names in it durable.
class PowerLossFs::Directory final : public rocksdb::FSDirectory {
 public:
  enum class Role : uint8_t { kOther, kTracked, kParent };
  Directory(std::unique_ptr<rocksdb::FSDirectory> target, PowerLossFs* fs, Role role)
      : target_(std::move(target)), fs_(fs), role_(role) {}

  rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return FsyncWithDirOptions(o, dbg, rocksdb::DirFsyncOptions());
  }
  rocksdb::IOStatus FsyncWithDirOptions(const rocksdb::IOOptions&, rocksdb::IODebugContext*,
                                        const rocksdb::DirFsyncOptions&) override {
    std::lock_guard lk(fs_->mu_);
    if (fs_->cut_) return fs_->Frozen();
    if (role_ == Role::kTracked) fs_->SyncDirLocked();
    if (role_ == Role::kParent) fs_->dir_named_ = true;
    return rocksdb::IOStatus::OK();
  }
  rocksdb::IOStatus Close(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
    return target_->Close(o, dbg);
  }
  size_t GetUniqueId(char* id, size_t max_size) const override { return target_->GetUniqueId(id, max_size); }

 private:
  std::unique_ptr<rocksdb::FSDirectory> target_;
  PowerLossFs* fs_;
  const Role role_;
};

PowerLossFs::PowerLossFs(std::string dir)
    : FileSystemWrapper(rocksdb::FileSystem::Default()),
      dir_(Normal(dir)),
      keep_dir_(dir_ + ".power-loss") {
  fs::remove_all(keep_dir_);
  fs::create_directories(keep_dir_);
  std::lock_guard lk(mu_);
  if (!fs::is_directory(dir_)) return;  // made later: CreateDir says whether its name is durable
  for (const auto& e : fs::directory_iterator(dir_)) {
    if (!e.is_regular_file()) continue;
    const std::string name = e.path().filename().string();
    auto node = AdoptLocked(e.path().string(), e.file_size(), e.file_size());
    live_[name] = node;
    durable_[name] = node;
  }
}

PowerLossFs::~PowerLossFs() {
  std::error_code ec;
  fs::remove_all(keep_dir_, ec);
}

bool PowerLossFs::Tracked(const std::string& path) const {
  return fs::path(Normal(path)).parent_path().string() == dir_;
}

rocksdb::IOStatus PowerLossFs::Frozen() const {
  return rocksdb::IOStatus::IOError("power cut", "the machine lost power");
}

std::shared_ptr<PowerLossFs::Node> PowerLossFs::AdoptLocked(const std::string& path, uint64_t size, uint64_t synced) {
  auto node = std::make_shared<Node>();
  node->keep = keep_dir_ + "/" + std::to_string(next_id_++);
  node->written = size;
  node->synced = synced;
  if (::link(path.c_str(), node->keep.c_str()) != 0) {
    throw std::runtime_error("PowerLossFs cannot link " + path + ": " + std::strerror(errno));
  }
  return node;
}

void PowerLossFs::SyncDirLocked() { durable_ = live_; }

void PowerLossFs::Cut() {
  std::lock_guard lk(mu_);
  cut_ = true;
}

rocksdb::IOStatus PowerLossFs::NewWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                               std::unique_ptr<rocksdb::FSWritableFile>* result,
                                               rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = target()->NewWritableFile(name, options, result, dbg);
  if (!s.ok() || !Tracked(name)) return s;
  auto node = AdoptLocked(name, 0, 0);  // an existing file was truncated: a new one as far as a cut goes
  live_[Base(name)] = node;
  *result = std::make_unique<File>(std::move(*result), this, std::move(node));
  return s;
}

rocksdb::IOStatus PowerLossFs::ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& options,
                                                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                                                  rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = target()->ReopenWritableFile(name, options, result, dbg);
  if (!s.ok() || !Tracked(name)) return s;
  std::shared_ptr<Node>& node = live_[Base(name)];
  if (!node) {
    std::error_code ec;
    const uint64_t size = fs::file_size(name, ec);
    node = AdoptLocked(name, size, 0);
  }
  *result = std::make_unique<File>(std::move(*result), this, node);
  return s;
}

rocksdb::IOStatus PowerLossFs::ReuseWritableFile(const std::string& name, const std::string&,
                                                 const rocksdb::FileOptions&, std::unique_ptr<rocksdb::FSWritableFile>*,
                                                 rocksdb::IODebugContext*) {
  return rocksdb::IOStatus::NotSupported("PowerLossFs does not model recycled WAL files", name);
}

rocksdb::IOStatus PowerLossFs::NewRandomRWFile(const std::string& name, const rocksdb::FileOptions&,
                                               std::unique_ptr<rocksdb::FSRandomRWFile>*, rocksdb::IODebugContext*) {
  return rocksdb::IOStatus::NotSupported("PowerLossFs does not model files written in place", name);
}

rocksdb::IOStatus PowerLossFs::NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                            std::unique_ptr<rocksdb::FSDirectory>* result,
                                            rocksdb::IODebugContext* dbg) {
  rocksdb::IOStatus s = target()->NewDirectory(name, options, result, dbg);
  if (!s.ok()) return s;
  const std::string normal = Normal(name);
  Directory::Role role = Directory::Role::kOther;
  if (normal == dir_) role = Directory::Role::kTracked;
  if (normal == fs::path(dir_).parent_path().string()) role = Directory::Role::kParent;
  *result = std::make_unique<Directory>(std::move(*result), this, role);
  return s;
}

rocksdb::IOStatus PowerLossFs::CreateDir(const std::string& name, const rocksdb::IOOptions& options,
                                         rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = FileSystemWrapper::CreateDir(name, options, dbg);
  if (s.ok() && Normal(name) == dir_) dir_named_ = false;
  return s;
}

rocksdb::IOStatus PowerLossFs::CreateDirIfMissing(const std::string& name, const rocksdb::IOOptions& options,
                                                  rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  const bool existed = fs::is_directory(name);
  rocksdb::IOStatus s = FileSystemWrapper::CreateDirIfMissing(name, options, dbg);
  if (s.ok() && !existed && Normal(name) == dir_) dir_named_ = false;
  return s;
}

rocksdb::IOStatus PowerLossFs::DeleteFile(const std::string& name, const rocksdb::IOOptions& options,
                                          rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = target()->DeleteFile(name, options, dbg);
  if (s.ok() && Tracked(name)) live_.erase(Base(name));
  return s;
}

rocksdb::IOStatus PowerLossFs::RenameFile(const std::string& src, const std::string& target,
                                          const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = FileSystemWrapper::RenameFile(src, target, options, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<Node> node;
  if (Tracked(src)) {
    auto it = live_.find(Base(src));
    if (it != live_.end()) node = it->second;
    live_.erase(Base(src));
  }
  if (Tracked(target)) {
    if (node == nullptr) {  // a file from elsewhere moved in: its bytes as they are
      std::error_code ec;
      const uint64_t size = fs::file_size(target, ec);
      node = AdoptLocked(target, size, size);
    }
    live_[Base(target)] = node;
  }
  return s;
}

rocksdb::IOStatus PowerLossFs::LinkFile(const std::string& src, const std::string& target,
                                        const rocksdb::IOOptions& options, rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = FileSystemWrapper::LinkFile(src, target, options, dbg);
  if (s.ok() && Tracked(src) && Tracked(target)) {
    auto it = live_.find(Base(src));
    if (it != live_.end()) live_[Base(target)] = it->second;
  }
  return s;
}

rocksdb::IOStatus PowerLossFs::Truncate(const std::string& name, size_t size, const rocksdb::IOOptions& options,
                                        rocksdb::IODebugContext* dbg) {
  std::lock_guard lk(mu_);
  if (cut_) return Frozen();
  rocksdb::IOStatus s = FileSystemWrapper::Truncate(name, size, options, dbg);
  if (s.ok() && Tracked(name)) {
    auto it = live_.find(Base(name));
    if (it != live_.end()) {
      it->second->written = size;
      it->second->synced = std::min<uint64_t>(it->second->synced, size);
    }
  }
  return s;
}

std::string PowerLossFs::Restore(std::mt19937_64& rng, bool torn) {
  std::lock_guard lk(mu_);
  cut_ = true;
  std::ostringstream report;
  if (!dir_named_) {  // the directory was made and its parent never synced: the cut takes it all
    fs::remove_all(dir_);
    live_.clear();
    durable_.clear();
    fs::remove_all(keep_dir_);
    return "  " + dir_ + ": gone (made, but its parent directory was never synced)\n";
  }
  // What the cut keeps, read before anything in the directory changes.
  std::map<std::string, std::string> kept;
  for (const auto& [name, node] : durable_) {
    std::ifstream in(node->keep, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    uint64_t keep = std::min<uint64_t>(node->synced, bytes.size());
    const uint64_t unsynced = std::min<uint64_t>(node->written, bytes.size()) - keep;
    if (torn && unsynced > 0) keep += rng() % (unsynced + 1);
    bytes.resize(keep);
    if (node->written != keep || !live_.contains(name) || live_.at(name) != node) {
      report << "  " << name << ": kept " << keep << " of " << node->written << " bytes (" << node->synced
             << " synced)" << (live_.contains(name) && live_.at(name) == node ? "" : ", name restored") << "\n";
    }
    kept[name] = std::move(bytes);
  }
  for (const auto& e : fs::directory_iterator(dir_)) {
    const std::string name = e.path().filename().string();
    if (e.is_regular_file() && !kept.contains(name)) {
      report << "  " << name << ": gone (its name was never synced)\n";
    }
    fs::remove_all(e.path());
  }
  for (const auto& [name, bytes] : kept) {
    std::ofstream out(dir_ + "/" + name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  live_.clear();
  durable_.clear();
  fs::remove_all(keep_dir_);
  return report.str();
}

}  // namespace marketsync::testing
