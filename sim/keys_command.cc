// edgefl keys init DIR --nodes N: a coordinator key pair, N node key pairs
// and the allow-list binding each node's public key to its id
// (net/curve_keys.h), for CURVE-secured runs (docs/deploy.md).
#include <sys/stat.h>

#include <cstdio>
#include <filesystem>

#include "core/log.h"
#include "net/curve_keys.h"
#include "sim/commands.h"

namespace edgefl {

int InitKeys(const std::string& dir, uint32_t nodes, bool force) {
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) {
    EDGEFL_LOG_ERROR("keys: cannot create %s: %s", dir.c_str(), error.message().c_str());
    return 1;
  }
  chmod(dir.c_str(), 0700);
  const std::string allow_path = dir + "/allow.keys";
  if (!force && std::filesystem::exists(allow_path)) {
    EDGEFL_LOG_ERROR("keys: %s already holds keys (allow.keys); --force replaces them all", dir.c_str());
    return 2;
  }
  CurveKeyPair coordinator;
  Status s = GenerateCurveKeyPair(&coordinator);
  if (s.ok()) s = WriteCurveKeys(dir + "/coordinator.key", coordinator, /*with_secret=*/true);
  if (s.ok()) s = WriteCurveKeys(dir + "/coordinator.pub", coordinator, /*with_secret=*/false);
  CurveAllowList allow;
  for (uint32_t i = 0; s.ok() && i < nodes; ++i) {
    CurveKeyPair node;
    s = GenerateCurveKeyPair(&node);
    if (s.ok()) s = WriteCurveKeys(dir + "/node-" + std::to_string(i) + ".key", node, /*with_secret=*/true);
    allow[node.public_key] = i;
  }
  if (s.ok()) s = WriteCurveAllowList(allow_path, allow);
  if (!s.ok()) {
    EDGEFL_LOG_ERROR("keys: %s", s.message());
    return 1;
  }
  std::printf("wrote %s/: coordinator.key (secret), coordinator.pub, node-0.key .. node-%u.key (secret, one to each "
              "board), allow.keys\n"
              "coordinator: edgefl-coordinator --key %s/coordinator.key --allow %s/allow.keys --bind tcp://0.0.0.0:5555 ...\n"
              "node i:      edgefl-node --key node-i.key --server-key coordinator.pub --connect tcp://HOST:5555 --id i\n",
              dir.c_str(), nodes - 1, dir.c_str(), dir.c_str());
  return 0;
}

}  // namespace edgefl
