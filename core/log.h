// Logging to stderr for the executables. Libraries return Status instead of
// printing; only adapters and main() log. Thread-safe as fprintf is.
#pragma once

#include <cstdio>

namespace edgefl {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Set once in main() from --verbose/--quiet; read-only afterwards.
LogLevel& MinLogLevel();
const char*& LogTag();

[[gnu::format(printf, 2, 3)]] void Log(LogLevel level, const char* format, ...);

}  // namespace edgefl

#define EDGEFL_LOG_ERROR(...) ::edgefl::Log(::edgefl::LogLevel::kError, __VA_ARGS__)
#define EDGEFL_LOG_WARN(...) ::edgefl::Log(::edgefl::LogLevel::kWarn, __VA_ARGS__)
#define EDGEFL_LOG_INFO(...) ::edgefl::Log(::edgefl::LogLevel::kInfo, __VA_ARGS__)
#define EDGEFL_LOG_DEBUG(...) ::edgefl::Log(::edgefl::LogLevel::kDebug, __VA_ARGS__)
