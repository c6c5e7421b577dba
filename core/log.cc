#include "core/log.h"

#include <cstdarg>

namespace edgefl {

LogLevel& MinLogLevel() {
  static LogLevel level = LogLevel::kInfo;
  return level;
}

const char*& LogTag() {
  static const char* tag = "edgefl";
  return tag;
}

void Log(LogLevel level, const char* format, ...) {
  if (static_cast<int>(level) > static_cast<int>(MinLogLevel())) return;
  static constexpr const char* kNames[] = {"error", "warn", "info", "debug"};
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  std::fprintf(stderr, "%s: %s: %s\n", LogTag(), kNames[static_cast<int>(level)], line);
}

}  // namespace edgefl
