// Helpers for end-to-end tests: run a shell command with a hard time limit
// and capture its output, and make a scratch folder per test.
#pragma once

#include <string>
#include <vector>

#include "runfiles/run_recorder.h"
#include "sim/process_group.h"

namespace edgefl::testing {

struct CommandResult {
  int exit_code = -1;   // the command's exit status (128 + n when killed by signal n)
  std::string output;   // stdout and stderr, interleaved
};

// Runs `command` under /bin/sh; killed after `timeout_s` seconds.
CommandResult RunCommand(const std::string& command, int timeout_s = 120);

// A fresh, empty folder under the build tree for one test.
std::string ScratchDir(const std::string& name);

// Writes `text` to `path`.
void WriteFile(const std::string& path, const std::string& text);
std::string ReadFile(const std::string& path);

// Absolute path of a built binary (edgefl, edgefl-coordinator, edgefl-node).
std::string Binary(const std::string& name);

// Waits (up to 30 s) for process `index` of `group` to exit, keeping the
// exits of others that end first for their own WaitFor; fails the test on
// timeout.
ChildExit WaitFor(ProcessGroup& group, size_t index);

// Counts running processes whose command line contains `needle`.
int CountProcesses(const std::string& needle);

// The data rows of a CSV file (its lines less the header).
long Rows(const std::string& path);
// Waits (up to 20 s) until the CSV file at `path` has more than `rows` rows.
void WaitForRows(const std::string& path, long rows);

// The open file descriptors of process `pid` (0 when it is gone).
int OpenDescriptors(int pid);

// Column `name` of every data row of a CSV text (a metrics.csv or nodes.csv).
std::vector<std::string> Column(const std::string& csv, const std::string& name);

inline bool Contains(const std::string& text, const std::string& what) { return text.find(what) != std::string::npos; }

// A run's summary.toml; fails the test, naming why, when it cannot be read.
RunSummary Summary(const std::string& path);

}  // namespace edgefl::testing
