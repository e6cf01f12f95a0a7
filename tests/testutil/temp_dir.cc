#include "tests/testutil/temp_dir.h"

#include <cstdlib>
#include <stdexcept>
#include <system_error>

namespace marketsync::testing {

TempDir::TempDir() {
  std::string pattern = (std::filesystem::temp_directory_path() / "marketsync-test-XXXXXX").string();
  if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace marketsync::testing
