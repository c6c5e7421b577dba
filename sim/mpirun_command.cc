#include "sim/mpirun_command.h"

namespace edgefl {

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
  for (size_t first = 0; first < node_args.size();) {
    size_t end = first + 1;
    while (end < node_args.size() && node_args[end] == node_args[first]) ++end;
    if (first > 0) argv.push_back(":");
    argv.insert(argv.end(), {"-np", std::to_string(end - first), node_binary});
    argv.insert(argv.end(), node_args[first].begin(), node_args[first].end());
    first = end;
  }
  return argv;
}

}  // namespace edgefl
