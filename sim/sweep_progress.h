// SweepProgress: the progress `edgefl sweep` shows on stderr: cells done
// out of all, running, failed, time spent and an estimate of the time left,
// as a bar redrawn in place on a terminal or as plain lines otherwise.
// Plain values and text; the command does the printing.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace edgefl {

struct SweepCounts {
  size_t total = 0;      // cells in the grid
  size_t done = 0;       // ended, whatever the outcome, this time or before
  size_t running = 0;
  size_t failed = 0;     // of `done`
  size_t to_run = 0;     // cells this sweep runs (total less those done before it)
  size_t ran = 0;        // of `to_run`, ended
  double elapsed_s = 0;  // since this sweep started running cells
};

// The seconds left at the pace so far: elapsed / ran for each cell still to
// end (cells running side by side count in that pace). None before the
// first cell has ended.
std::optional<double> SecondsLeft(const SweepCounts& counts);

// "0:42", "12:05", "1:02:03".
std::string FormatDuration(double seconds);

// "[#######             ] 3/8 cells, 2 running, 1 failed, 0:42 elapsed,
// about 1:10 left" (with `bar`), or the same without the bar. The estimate
// reads "time left unknown" until a cell has ended.
std::string ProgressText(const SweepCounts& counts, bool bar);

}  // namespace edgefl
