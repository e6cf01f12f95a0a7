#pragma once

// Names the calling thread (as `top -H`, perf and gdb show it). Linux keeps 15 characters.

#include <pthread.h>

#include <string>

namespace marketsync {

inline void SetThreadName(const std::string& name) {
  ::pthread_setname_np(::pthread_self(), name.substr(0, 15).c_str());
}

}  // namespace marketsync
