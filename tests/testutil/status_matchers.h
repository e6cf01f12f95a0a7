#pragma once

#include <gtest/gtest.h>

#include "base/status.h"

namespace marketsync::testing {

inline const Status& StatusOf(const Status& s) { return s; }
template <typename T>
const Status& StatusOf(const Result<T>& r) {
  return r.status();
}

}  // namespace marketsync::testing

// Print the failing status, RocksDB style.
#define ASSERT_OK(expr)                                                         \
  do {                                                                          \
    const auto& ms_v_ = (expr);                                                 \
    const auto& ms_s_ = ::marketsync::testing::StatusOf(ms_v_);                 \
    ASSERT_TRUE(ms_s_.ok()) << #expr << " -> " << ms_s_.ToString();             \
  } while (0)
#define EXPECT_OK(expr)                                                         \
  do {                                                                          \
    const auto& ms_v_ = (expr);                                                 \
    const auto& ms_s_ = ::marketsync::testing::StatusOf(ms_v_);                 \
    EXPECT_TRUE(ms_s_.ok()) << #expr << " -> " << ms_s_.ToString();             \
  } while (0)
