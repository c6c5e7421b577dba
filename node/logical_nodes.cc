// RunLogicalNodes (node_client.h): several nodes in one process, each a
// RunNode of its own on a thread of its own.
#include <array>
#include <cstdio>
#include <thread>
#include <vector>

#include "core/log.h"
#include "node/node_client.h"

namespace edgefl {

Status RunLogicalNodes(const NodeOptions& options, uint32_t count, const std::atomic<bool>& stop) {
  std::vector<NodeOptions> each(count, options);
  std::vector<Status> ended(count);
  std::vector<std::array<char, 32>> tags(count);
  std::vector<std::thread> threads;
  threads.reserve(count);
  for (uint32_t j = 0; j < count; ++j) {
    each[j].node_id = options.node_id + j;
    each[j].nodes_in_process = count;
    std::snprintf(tags[j].data(), tags[j].size(), "edgefl-node %u", each[j].node_id);
    threads.emplace_back([&, j] {
      ThreadLogTag() = tags[j].data();
      ended[j] = RunNode(each[j], stop);
      if (!ended[j].ok()) EDGEFL_LOG_ERROR("%s", ended[j].message());
    });
  }
  for (std::thread& thread : threads) thread.join();
  uint32_t failed = 0, first = 0;
  for (uint32_t j = count; j-- > 0;) {
    if (!ended[j].ok()) {
      ++failed;
      first = j;
    }
  }
  if (failed == 0) return Status::Ok();
  return Status::Error(ended[first].code(), "%u of the %u logical nodes failed, the first node %u (each logged why)",
                       failed, count, each[first].node_id);
}

}  // namespace edgefl
