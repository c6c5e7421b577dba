#include "sim/sweep_progress.h"

#include <cmath>
#include <cstdio>

namespace edgefl {

std::optional<double> SecondsLeft(const SweepCounts& c) {
  if (c.ran == 0) return std::nullopt;
  return c.elapsed_s / static_cast<double>(c.ran) * static_cast<double>(c.to_run - c.ran);
}

std::string FormatDuration(double seconds) {
  const long total = std::lround(std::fmax(seconds, 0.0));
  char text[32];
  if (total >= 3600) {
    std::snprintf(text, sizeof(text), "%ld:%02ld:%02ld", total / 3600, total / 60 % 60, total % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ld:%02ld", total / 60, total % 60);
  }
  return text;
}

std::string ProgressText(const SweepCounts& c, bool bar) {
  std::string out;
  if (bar) {
    constexpr size_t kWidth = 20;
    const size_t filled = c.total == 0 ? kWidth : kWidth * c.done / c.total;
    out = "[" + std::string(filled, '#') + std::string(kWidth - filled, ' ') + "] ";
  }
  char text[160];
  std::snprintf(text, sizeof(text), "%zu/%zu cells, %zu running, %zu failed, %s elapsed, ", c.done, c.total,
                c.running, c.failed, FormatDuration(c.elapsed_s).c_str());
  out += text;
  const auto left = SecondsLeft(c);
  out += left ? "about " + FormatDuration(*left) + " left" : std::string("time left unknown");
  return out;
}

}  // namespace edgefl
