#pragma once

// The closed vocabularies of a run: its status, its mode and the class of its error. Events and
// rows store their names (the strings below, stable forever); code uses the enums.

#include <cstdint>
#include <optional>
#include <string_view>

namespace marketsync {

enum class RunStatus : uint8_t { kRunning, kCompleted, kCompletedWithGaps, kFailed, kCancelled, kInterrupted };
enum class SyncMode : uint8_t { kFull, kIncremental };
// Why a run failed: "auth" (401/403, isError about credentials or IP), "deadline" (the run's
// deadline passed), "retryable" (retries ran out), "fatal" (any other refusal), "config" (the
// account is no longer configured), "interrupted" (resuming off, or attempts ran out).
enum class ErrorClass : uint8_t { kAuth, kDeadline, kRetryable, kFatal, kConfig, kInterrupted };

constexpr std::string_view ToString(RunStatus s) {
  switch (s) {
    case RunStatus::kRunning: return "running";
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kCompletedWithGaps: return "completed_with_gaps";
    case RunStatus::kFailed: return "failed";
    case RunStatus::kCancelled: return "cancelled";
    case RunStatus::kInterrupted: return "interrupted";
  }
  return "unknown";
}

constexpr std::string_view ToString(SyncMode m) { return m == SyncMode::kFull ? "full" : "incremental"; }

constexpr std::string_view ToString(ErrorClass c) {
  switch (c) {
    case ErrorClass::kAuth: return "auth";
    case ErrorClass::kDeadline: return "deadline";
    case ErrorClass::kRetryable: return "retryable";
    case ErrorClass::kFatal: return "fatal";
    case ErrorClass::kConfig: return "config";
    case ErrorClass::kInterrupted: return "interrupted";
  }
  return "unknown";
}

// The value whose ToString is `name`; nullopt for any other string.
std::optional<RunStatus> ParseRunStatus(std::string_view name);
std::optional<SyncMode> ParseSyncMode(std::string_view name);
std::optional<ErrorClass> ParseErrorClass(std::string_view name);

// Terminal statuses end a run for good.
constexpr bool IsTerminal(RunStatus s) {
  return s == RunStatus::kCompleted || s == RunStatus::kCompletedWithGaps || s == RunStatus::kFailed ||
         s == RunStatus::kCancelled;
}

}  // namespace marketsync
