// CURVE keys for authenticated, encrypted links (ZeroMQ's CurveZMQ): the
// coordinator's key pair, each node's, and the coordinator's allow-list that
// binds each node's public key to its node id. Keys are Z85 text, 40
// characters for 32 bytes. Files are text, one `name = "value"` a line, `#`
// comments (valid TOML):
//   key pair (keep secret):  public = "<z85>"  secret = "<z85>"
//   public key:              public = "<z85>"
//   allow-list:              node-<id> = "<z85 public key>"   (one a node)
// `edgefl keys init` writes a set. docs/deploy.md has the steps.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "core/status.h"

namespace edgefl {

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85; empty in a public key file
};

// Whether `key` is a well-formed 40-character Z85 CURVE key.
bool IsCurveKey(const std::string& key);

Status GenerateCurveKeyPair(CurveKeyPair* pair);

// Reads a key pair file (`need_secret`) or a public key file. A Z85 key
// given directly instead of a path is taken as a public key.
Status ReadCurveKeys(const std::string& path_or_key, bool need_secret, CurveKeyPair* pair);

// Writes `pair` (with its secret: mode 0600) or only its public key.
Status WriteCurveKeys(const std::string& path, const CurveKeyPair& pair, bool with_secret);

// public key (Z85) -> node id.
using CurveAllowList = std::map<std::string, uint32_t>;
Status ReadCurveAllowList(const std::string& path, CurveAllowList* allow);
Status WriteCurveAllowList(const std::string& path, const CurveAllowList& allow);

}  // namespace edgefl
