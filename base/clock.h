#pragma once

// The wall clock the product records: UTC microseconds since the Unix epoch.

#include <cstdint>

namespace marketsync {

// Now, from the system clock. Thread-safe.
int64_t NowUs();

}  // namespace marketsync
