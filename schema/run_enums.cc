#include "schema/run_enums.h"

namespace marketsync {
namespace {

template <typename E, size_t N>
std::optional<E> ParseOf(std::string_view name, const E (&all)[N]) {
  for (E e : all) {
    if (ToString(e) == name) return e;
  }
  return std::nullopt;
}

}  // namespace

std::optional<RunStatus> ParseRunStatus(std::string_view name) {
  static constexpr RunStatus kAll[] = {RunStatus::kRunning,  RunStatus::kCompleted, RunStatus::kCompletedWithGaps,
                                       RunStatus::kFailed,   RunStatus::kCancelled, RunStatus::kInterrupted};
  return ParseOf(name, kAll);
}

std::optional<SyncMode> ParseSyncMode(std::string_view name) {
  static constexpr SyncMode kAll[] = {SyncMode::kFull, SyncMode::kIncremental};
  return ParseOf(name, kAll);
}

std::optional<ErrorClass> ParseErrorClass(std::string_view name) {
  static constexpr ErrorClass kAll[] = {ErrorClass::kAuth,  ErrorClass::kDeadline, ErrorClass::kRetryable,
                                        ErrorClass::kFatal, ErrorClass::kConfig,   ErrorClass::kInterrupted};
  return ParseOf(name, kAll);
}

}  // namespace marketsync
