// Logging to stderr for the executables. Libraries return Status instead of
// printing; only adapters and main() log. Each call writes exactly one line:
// control characters in the message (from any argument, such as a peer's
// routing id) are written as \xNN. Thread-safe as fprintf is.
#pragma once

#include <cstddef>
#include <cstdio>

namespace edgefl {

enum class LogLevel : int { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

// Set once in main() from --verbose/--quiet; read-only afterwards.
LogLevel& MinLogLevel();
// The program's name at the start of each line, set once in main().
const char*& LogTag();
// The calling thread's own tag, when it has one (a logical node's thread in
// edgefl-node); nullptr: LogTag().
const char*& ThreadLogTag();

[[gnu::format(printf, 2, 3)]] void Log(LogLevel level, const char* format, ...);

// Copies `text` into `out` with every control character (below 0x20, and
// 0x7f) written as \xNN, truncated to fit out_size (at least 5) with its NUL.
// 4 x strlen(text) + 1 bytes always suffice.
void EscapeControlCharacters(const char* text, char* out, size_t out_size);

}  // namespace edgefl

#define EDGEFL_LOG_ERROR(...) ::edgefl::Log(::edgefl::LogLevel::kError, __VA_ARGS__)
#define EDGEFL_LOG_WARN(...) ::edgefl::Log(::edgefl::LogLevel::kWarn, __VA_ARGS__)
#define EDGEFL_LOG_INFO(...) ::edgefl::Log(::edgefl::LogLevel::kInfo, __VA_ARGS__)
#define EDGEFL_LOG_DEBUG(...) ::edgefl::Log(::edgefl::LogLevel::kDebug, __VA_ARGS__)
