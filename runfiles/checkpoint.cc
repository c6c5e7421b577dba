#include "runfiles/checkpoint.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <map>
#include <sstream>

#include "runfiles/atomic_file.h"
#include "core/state_io.h"
#include "core/byte_fields.h"
#include "core/fnv.h"

namespace edgefl {
namespace {

Status GetText(StateReader& in, std::string* text) {
  std::vector<char> chars;
  EDGEFL_RETURN_IF_ERROR(in.GetVector(&chars));
  text->assign(chars.begin(), chars.end());
  return Status::Ok();
}

// "section.key" -> value, for the `key = value` lines of a ToToml text.
std::map<std::string, std::string> KeyValues(const std::string& toml) {
  std::map<std::string, std::string> keys;
  std::istringstream lines(toml);
  std::string line, section;
  while (std::getline(lines, line)) {
    if (line.size() > 2 && line.front() == '[' && line.back() == ']') {
      section = line.substr(1, line.size() - 2);
      continue;
    }
    const size_t equals = line.find(" = ");
    if (equals == std::string::npos) continue;
    keys[section + "." + line.substr(0, equals)] = line.substr(equals + 3);
  }
  return keys;
}

}  // namespace

Status WriteCheckpointFile(const std::string& path, const Checkpoint& checkpoint) {
  StateWriter prefix;
  prefix.PutSpan(std::span<const char>(checkpoint.config_toml));
  prefix.PutSpan(std::span<const char>(checkpoint.stop_reason));
  uint8_t header[kCheckpointHeaderBytes] = {};
  std::memcpy(header, kCheckpointMagic, sizeof(kCheckpointMagic));
  PutAt<uint32_t>(header, 8, kCheckpointFormatVersion);
  PutAt<uint32_t>(header, 12, checkpoint.round);
  PutAt<uint8_t>(header, 16, checkpoint.finished ? 1 : 0);
  PutAt<uint64_t>(header, 24, prefix.bytes().size() + checkpoint.state.size());
  uint64_t checksum = Fnv1a64(std::span<const uint8_t>(header, 32));
  checksum = Fnv1a64(prefix.bytes(), checksum);
  checksum = Fnv1a64(checkpoint.state, checksum);
  PutAt<uint64_t>(header, 32, checksum);
  return WriteFileAtomically(path, {std::span<const uint8_t>(header), prefix.bytes(), checkpoint.state});
}

Status ReadCheckpointFile(const std::string& path, Checkpoint* checkpoint) {
  std::vector<uint8_t> bytes;
  EDGEFL_RETURN_IF_ERROR(ReadWholeFile(path, &bytes));
  return DecodeCheckpoint(bytes, path, checkpoint);
}

Status ReadCheckpointHeader(const std::string& path, Checkpoint* checkpoint) {
  uint8_t header[kCheckpointHeaderBytes];
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot open %s: %s", path.c_str(), std::strerror(errno));
  }
  const size_t got = std::fread(header, 1, sizeof(header), file);
  std::fclose(file);
  if (got != sizeof(header) || std::memcmp(header, kCheckpointMagic, 8) != 0) {
    return Status::Error(StatusCode::kMalformed, "%s is not an edgefl checkpoint (no EDGEFLCK header)", path.c_str());
  }
  checkpoint->round = GetAt<uint32_t>(header, 12);
  checkpoint->finished = header[16] != 0;
  return Status::Ok();
}

Status DecodeCheckpoint(std::span<const uint8_t> bytes, const std::string& origin, Checkpoint* checkpoint) {
  const char* name = origin.c_str();
  if (bytes.size() < kCheckpointHeaderBytes || std::memcmp(bytes.data(), kCheckpointMagic, 8) != 0) {
    return Status::Error(StatusCode::kMalformed, "%s is not an edgefl checkpoint (no EDGEFLCK header)", name);
  }
  const auto version = GetAt<uint32_t>(bytes.data(), 8);
  if (version != kCheckpointFormatVersion) {
    return Status::Error(StatusCode::kMalformed,
                         "%s is checkpoint format version %u; this build reads version %u only", name, version,
                         kCheckpointFormatVersion);
  }
  const auto payload = GetAt<uint64_t>(bytes.data(), 24);
  const size_t held = bytes.size() - kCheckpointHeaderBytes;
  if (payload != held) {
    return Status::Error(StatusCode::kMalformed, "%s is %s: its header announces %llu bytes after it, the file has %zu",
                         name, payload > held ? "truncated" : "too long", static_cast<unsigned long long>(payload),
                         held);
  }
  const uint64_t checksum =
      Fnv1a64(bytes.subspan(kCheckpointHeaderBytes), Fnv1a64(bytes.first(32)));
  const auto stored = GetAt<uint64_t>(bytes.data(), 32);
  if (checksum != stored) {
    return Status::Error(StatusCode::kMalformed, "%s is corrupt: its checksum is %016llx, its header says %016llx",
                         name, static_cast<unsigned long long>(checksum), static_cast<unsigned long long>(stored));
  }
  checkpoint->round = GetAt<uint32_t>(bytes.data(), 12);
  checkpoint->finished = bytes[16] != 0;
  StateReader in(bytes.subspan(kCheckpointHeaderBytes));
  Status s = GetText(in, &checkpoint->config_toml);
  if (s.ok()) s = GetText(in, &checkpoint->stop_reason);
  if (!s.ok()) return Status::Error(StatusCode::kMalformed, "%s: %s", name, s.message());
  const auto state = bytes.subspan(bytes.size() - in.left());
  checkpoint->state.assign(state.begin(), state.end());
  return Status::Ok();
}

std::string ConfigChanges(const std::string& before_text, const std::string& now_text) {
  const auto before = KeyValues(before_text);
  const auto after = KeyValues(now_text);
  std::string changes;
  int count = 0;
  const auto note = [&](const std::string& key, const std::string* was, const std::string* is) {
    if (++count > 3) return;
    changes += changes.empty() ? "" : "; ";
    changes += key + " = " + (is ? *is : "(absent)") + ", was " + (was ? *was : "(absent)");
  };
  for (const auto& [key, value] : before) {
    const auto found = after.find(key);
    if (found == after.end()) {
      note(key, &value, nullptr);
    } else if (found->second != value) {
      note(key, &value, &found->second);
    }
  }
  for (const auto& [key, value] : after) {
    if (!before.contains(key)) note(key, nullptr, &value);
  }
  if (count == 0 && before_text != now_text) changes = "the text differs";  // not a ToToml text
  if (count > 3) changes += "; and " + std::to_string(count - 3) + " more";
  return changes;
}

Status CheckSameConfig(const std::string& at_checkpoint, const std::string& now) {
  const std::string changes = ConfigChanges(at_checkpoint, now);
  if (changes.empty()) return Status::Ok();
  return Status::Error(StatusCode::kInvalidArgument, "the config has changed since the checkpoint: %s",
                       changes.c_str());
}

}  // namespace edgefl
