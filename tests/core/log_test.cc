// One log call, one line; a flood of warnings becomes a few lines and a count.
#include "core/log.h"

#include <doctest/doctest.h>

#include <string>

#include "core/log_throttle.h"

namespace edgefl {
namespace {

std::string Escaped(const char* text, size_t size = 256) {
  char out[256];
  EscapeControlCharacters(text, out, size);
  return out;
}

TEST_CASE("control characters are escaped, so a peer's text cannot forge a log line") {
  CHECK(Escaped("node-1\nedgefl: info: all rounds done") == "node-1\\x0aedgefl: info: all rounds done");
  CHECK(Escaped("a\rb\x1b[2Jc\x7f") == "a\\x0db\\x1b[2Jc\\x7f");
  CHECK(Escaped("plain text, unchanged") == "plain text, unchanged");
  CHECK(Escaped("\n\n\n\n", 10) == "\\x0a\\x0a");  // truncated whole, never mid-escape
}

TEST_CASE("LogThrottle lets a burst through a window, counts the rest, and reports them with the next") {
  LogThrottle throttle(3, 1000);
  uint64_t held = 0;
  int passed = 0;
  for (int i = 0; i < 100; ++i) passed += throttle.Allow(10, &held) ? 1 : 0;
  CHECK(passed == 3);
  CHECK(throttle.held_back() == 97);
  CHECK_FALSE(throttle.Allow(999, &held));  // still the same window
  CHECK(throttle.Allow(1010, &held));      // a new window
  CHECK(held == 98);
  CHECK(throttle.held_back() == 0);
  CHECK(throttle.Allow(1011, &held));
  CHECK(held == 0);
}

}  // namespace
}  // namespace edgefl
