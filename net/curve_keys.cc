#include "net/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zmq.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <string_view>
#include <vector>

namespace edgefl {
namespace {

// `name = "value"` lines, in order; `#` comments and blank lines skipped.
Status ReadAssignments(const std::string& path, std::vector<std::pair<std::string, std::string>>* out) {
  std::ifstream in(path);
  if (!in) return Status::Error(StatusCode::kInvalidArgument, "%s: cannot open: %s", path.c_str(), std::strerror(errno));
  std::string line;
  for (size_t number = 1; std::getline(in, line); ++number) {
    std::string_view text(line);
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) text.remove_suffix(1);
    if (text.empty() || text.front() == '#') continue;
    const size_t equals = text.find('=');
    if (equals == std::string_view::npos) {
      return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: expected name = \"value\"", path.c_str(), number);
    }
    std::string_view name = text.substr(0, equals), value = text.substr(equals + 1);
    while (!name.empty() && name.back() == ' ') name.remove_suffix(1);
    while (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    if (value.size() < 2 || value.front() != '"' || value.back() != '"') {
      return Status::Error(StatusCode::kInvalidArgument, "%s:%zu: the value of %.*s must be in double quotes",
                           path.c_str(), number, static_cast<int>(name.size()), name.data());
    }
    out->emplace_back(std::string(name), std::string(value.substr(1, value.size() - 2)));
  }
  return Status::Ok();
}

// Writes `text` to `path` with `mode`, replacing it atomically.
Status WriteFile(const std::string& path, const std::string& text, mode_t mode) {
  const std::string temporary = path + ".tmp";
  const int fd = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path.c_str(), std::strerror(errno));
  const bool written = write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size()) && fsync(fd) == 0;
  close(fd);
  if (!written || rename(temporary.c_str(), path.c_str()) != 0) {
    unlink(temporary.c_str());
    return Status::Error(StatusCode::kInvalidArgument, "cannot write %s: %s", path.c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

}  // namespace

bool IsCurveKey(const std::string& key) {
  uint8_t bytes[32];
  return key.size() == 40 && zmq_z85_decode(bytes, key.c_str()) != nullptr;
}

Status GenerateCurveKeyPair(CurveKeyPair* pair) {
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    return Status::Error(StatusCode::kInternal, "cannot make a CURVE key pair: %s (is libzmq built with CURVE?)",
                         zmq_strerror(zmq_errno()));
  }
  pair->public_key = public_key;
  pair->secret_key = secret_key;
  return Status::Ok();
}

Status ReadCurveKeys(const std::string& path_or_key, bool need_secret, CurveKeyPair* pair) {
  *pair = {};
  if (!need_secret && IsCurveKey(path_or_key) && access(path_or_key.c_str(), F_OK) != 0) {
    pair->public_key = path_or_key;
    return Status::Ok();
  }
  std::vector<std::pair<std::string, std::string>> lines;
  EDGEFL_RETURN_IF_ERROR(ReadAssignments(path_or_key, &lines));
  for (const auto& [name, value] : lines) {
    if (name == "public") pair->public_key = value;
    if (name == "secret") pair->secret_key = value;
  }
  if (!IsCurveKey(pair->public_key)) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: no valid public key (public = \"<40 Z85 characters>\")",
                         path_or_key.c_str());
  }
  if (need_secret && !IsCurveKey(pair->secret_key)) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s: no valid secret key (secret = \"<40 Z85 characters>\"); a key pair file is needed here",
                         path_or_key.c_str());
  }
  if (need_secret) {
    struct stat info = {};
    if (stat(path_or_key.c_str(), &info) == 0 && (info.st_mode & 077) != 0) {
      return Status::Error(StatusCode::kInvalidArgument,
                           "%s holds a secret key but others may read it (mode %03o): chmod 600 it",
                           path_or_key.c_str(), static_cast<unsigned>(info.st_mode & 0777));
    }
  }
  return Status::Ok();
}

Status WriteCurveKeys(const std::string& path, const CurveKeyPair& pair, bool with_secret) {
  std::string text = with_secret ? "# edgefl CURVE key pair: keep this file secret\n" : "# edgefl CURVE public key\n";
  text += "public = \"" + pair.public_key + "\"\n";
  if (with_secret) text += "secret = \"" + pair.secret_key + "\"\n";
  return WriteFile(path, text, with_secret ? 0600 : 0644);
}

Status ReadCurveAllowList(const std::string& path, CurveAllowList* allow) {
  allow->clear();
  // Whoever may write the allow-list decides who joins: as a readable
  // secret key is refused, so is a list others may change.
  struct stat info = {};
  if (stat(path.c_str(), &info) == 0 && (info.st_mode & 022) != 0) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "%s decides which nodes may join but others may change it (mode %03o): chmod go-w it",
                         path.c_str(), static_cast<unsigned>(info.st_mode & 0777));
  }
  std::vector<std::pair<std::string, std::string>> lines;
  EDGEFL_RETURN_IF_ERROR(ReadAssignments(path, &lines));
  for (const auto& [name, key] : lines) {
    constexpr std::string_view kPrefix = "node-";
    char* end = nullptr;
    const unsigned long id = name.rfind(kPrefix, 0) == 0 ? std::strtoul(name.c_str() + kPrefix.size(), &end, 10) : 0;
    if (end == nullptr || *end != '\0' || end == name.c_str() + kPrefix.size() || id > 4095) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: '%s' is not a node name (node-<id>, id 0..4095)",
                           path.c_str(), name.c_str());
    }
    if (!IsCurveKey(key)) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: %s's key is not 40 Z85 characters", path.c_str(),
                           name.c_str());
    }
    if (!allow->emplace(key, static_cast<uint32_t>(id)).second) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: %s's key is listed twice", path.c_str(), name.c_str());
    }
  }
  if (allow->empty()) return Status::Error(StatusCode::kInvalidArgument, "%s: lists no node", path.c_str());
  return Status::Ok();
}

Status WriteCurveAllowList(const std::string& path, const CurveAllowList& allow) {
  std::map<uint32_t, std::string> by_node;
  for (const auto& [key, node] : allow) by_node[node] = key;
  std::string text = "# edgefl allow-list: the nodes the coordinator admits, each bound to its public key\n";
  for (const auto& [node, key] : by_node) text += "node-" + std::to_string(node) + " = \"" + key + "\"\n";
  return WriteFile(path, text, 0644);
}

}  // namespace edgefl
