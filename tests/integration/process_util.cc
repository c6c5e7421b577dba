#include "tests/integration/process_util.h"

#include <doctest/doctest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace edgefl::testing {

ChildExit WaitFor(ProcessGroup& group, size_t index) {
  static std::map<std::pair<ProcessGroup*, size_t>, ChildExit> ended;
  // A running child has no exit yet: an entry is an earlier group's, at
  // the same address.
  if (group.Running(index)) ended.erase({&group, index});
  ChildExit exit;
  while (!ended.contains({&group, index}) && group.WaitAny(30000, &exit)) ended[{&group, exit.index}] = exit;
  REQUIRE_MESSAGE(ended.contains({&group, index}), "process did not exit");
  return ended.at({&group, index});
}

CommandResult RunCommand(const std::string& command, int timeout_s) {
  const std::string wrapped =
      "timeout --kill-after=5 " + std::to_string(timeout_s) + " /bin/sh -c '" + command + "' 2>&1";
  CommandResult result;
  std::FILE* pipe = popen(wrapped.c_str(), "r");
  if (pipe == nullptr) return result;
  char buffer[4096];
  size_t n;
  while ((n = std::fread(buffer, 1, sizeof(buffer), pipe)) > 0) result.output.append(buffer, n);
  const int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::string ScratchDir(const std::string& name) {
  const std::string dir = std::string(EDGEFL_BIN_DIR) + "/../test-scratch/" + name;
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return std::filesystem::canonical(dir).string();
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

std::string ReadFile(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string Binary(const std::string& name) { return std::string(EDGEFL_BIN_DIR) + "/" + name; }

int CountProcesses(const std::string& needle) {
  int count = 0;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::ifstream file(entry.path() / "cmdline");
    std::string cmdline((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline.find(needle) != std::string::npos && cmdline.find("timeout") == std::string::npos) ++count;
  }
  return count;
}

long Rows(const std::string& path) {
  const std::string text = ReadFile(path);
  return static_cast<long>(std::count(text.begin(), text.end(), '\n')) - 1;
}

void WaitForRows(const std::string& path, long rows) {
  for (int wait = 0; wait < 1000 && Rows(path) <= rows; ++wait) usleep(20000);
  REQUIRE(Rows(path) > rows);
}

int OpenDescriptors(int pid) {
  std::error_code error;
  int n = 0;
  for (auto it = std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", error);
       !error && it != std::filesystem::directory_iterator(); it.increment(error)) {
    ++n;
  }
  return n;
}

std::vector<std::string> Column(const std::string& csv, const std::string& name) {
  std::vector<std::string> rows, header;
  size_t start = 0;
  while (start < csv.size()) {
    const size_t end = std::min(csv.find('\n', start), csv.size());
    std::vector<std::string> cells;
    size_t cell = start;
    while (cell <= end) {
      const size_t comma = std::min(csv.find(',', cell), end);
      cells.push_back(csv.substr(cell, comma - cell));
      cell = comma + 1;
    }
    if (header.empty()) {
      header = cells;
    } else {
      const auto at = std::find(header.begin(), header.end(), name);
      REQUIRE(at != header.end());
      rows.push_back(cells.at(static_cast<size_t>(at - header.begin())));
    }
    start = end + 1;
  }
  return rows;
}

RunSummary Summary(const std::string& path) {
  RunSummary s;
  const Status status = ReadSummary(path, &s);
  REQUIRE_MESSAGE(status.ok(), status.message());
  return s;
}

}  // namespace edgefl::testing
