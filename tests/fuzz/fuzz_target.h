#pragma once

// Every fuzz target defines LLVMFuzzerTestOneInput (libFuzzer's entry point). Under `make fuzz`
// (clang, -DMARKETSYNC_FUZZ=ON) libFuzzer drives it; in `make test` replay_main.cc feeds it each
// file of the target's committed corpus, so a finding added there stays fixed.
//
// A target must never crash, leak, hang or trip a sanitizer, whatever the bytes: a parser
// answers garbage with an error Status.

#include <cstddef>
#include <cstdint>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace marketsync::fuzz {

inline std::string_view AsText(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace marketsync::fuzz
