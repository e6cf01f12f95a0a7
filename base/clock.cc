#include "base/clock.h"

#include <chrono>

namespace marketsync {

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace marketsync
