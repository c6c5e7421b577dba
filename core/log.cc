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

const char*& ThreadLogTag() {
  thread_local const char* tag = nullptr;
  return tag;
}

void EscapeControlCharacters(const char* text, char* out, size_t out_size) {
  size_t n = 0;
  for (const char* c = text; *c != '\0' && n + 5 <= out_size; ++c) {
    const auto byte = static_cast<unsigned char>(*c);
    if (byte < 0x20 || byte == 0x7f) {
      n += static_cast<size_t>(std::snprintf(out + n, out_size - n, "\\x%02x", byte));
    } else {
      out[n++] = *c;
    }
  }
  out[n] = '\0';
}

void Log(LogLevel level, const char* format, ...) {
  if (static_cast<int>(level) > static_cast<int>(MinLogLevel())) return;
  static constexpr const char* kNames[] = {"error", "warn", "info", "debug"};
  char line[1024];
  va_list args;
  va_start(args, format);
  std::vsnprintf(line, sizeof(line), format, args);
  va_end(args);
  char escaped[4 * sizeof(line)];
  EscapeControlCharacters(line, escaped, sizeof(escaped));
  const char* tag = ThreadLogTag() != nullptr ? ThreadLogTag() : LogTag();
  std::fprintf(stderr, "%s: %s: %s\n", tag, kNames[static_cast<int>(level)], escaped);
}

}  // namespace edgefl
