#include "sim/launch_command.h"

#include <utility>

namespace edgefl {
namespace {

// Runs of alike nodes: [first, end) pairs in id order.
std::vector<std::pair<size_t, size_t>> AlikeRuns(std::span<const std::vector<std::string>> node_args) {
  std::vector<std::pair<size_t, size_t>> runs;
  for (size_t first = 0; first < node_args.size();) {
    size_t end = first + 1;
    while (end < node_args.size() && node_args[end] == node_args[first]) ++end;
    runs.emplace_back(first, end);
    first = end;
  }
  return runs;
}

}  // namespace

std::vector<std::string> MpirunCommand(const MpirunOptions& options, const std::string& node_binary,
                                       std::span<const std::vector<std::string>> node_args) {
  std::vector<std::string> argv = {options.mpirun};
  if (options.as_root) argv.push_back("--allow-run-as-root");
  if (options.hostfile.empty()) {
    argv.push_back("--oversubscribe");  // more nodes than cores is the point of a simulation
  } else {
    argv.insert(argv.end(), {"--hostfile", options.hostfile});
  }
  argv.insert(argv.end(), options.extra.begin(), options.extra.end());
  for (const auto& [first, end] : AlikeRuns(node_args)) {
    if (first > 0) argv.push_back(":");
    argv.insert(argv.end(), {"-np", std::to_string(end - first), node_binary});
    argv.insert(argv.end(), node_args[first].begin(), node_args[first].end());
  }
  return argv;
}

Status MakeSrunCommand(const std::string& srun, const std::vector<std::string>& extra, const std::string& node_binary,
                       std::span<const std::vector<std::string>> node_args, const std::string& multi_prog_path,
                       SrunCommand* out) {
  *out = SrunCommand();
  out->argv = {srun, "--ntasks=" + std::to_string(node_args.size()), "--overcommit", "--kill-on-bad-exit=0"};
  out->argv.insert(out->argv.end(), extra.begin(), extra.end());
  const auto runs = AlikeRuns(node_args);
  if (runs.size() <= 1) {
    out->argv.push_back(node_binary);
    if (!node_args.empty()) out->argv.insert(out->argv.end(), node_args[0].begin(), node_args[0].end());
    return Status::Ok();
  }
  // One line a run of alike nodes: "first-last program args...", split by srun on white space.
  for (const auto& [first, end] : runs) {
    std::string line = std::to_string(first) + "-" + std::to_string(end - 1) + " " + node_binary;
    for (const std::string& arg : node_args[first]) {
      if (arg.empty() || arg.find_first_of(" \t'\"\\") != std::string::npos) {
        return Status::Error(StatusCode::kInvalidArgument,
                             "--launcher srun: the argument '%.60s' of node %zu cannot go in srun's --multi-prog "
                             "file (a space or a quote); move the run folder or data to a path without one",
                             arg.c_str(), first);
      }
      line += " " + arg;
    }
    out->multi_prog += line + "\n";
  }
  out->argv.insert(out->argv.end(), {"--multi-prog", multi_prog_path});
  return Status::Ok();
}

}  // namespace edgefl
