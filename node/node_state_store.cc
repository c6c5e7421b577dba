#include "node/node_state_store.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>
#include <limits>
#include <vector>

#include "core/fnv.h"
#include "core/log.h"
#include "schemas/codec/wire.h"

namespace edgefl {
namespace {

constexpr char kMagic[8] = {'E', 'D', 'G', 'E', 'F', 'L', 'N', 'S'};
constexpr uint32_t kVersion = 1;
constexpr int64_t kUnbounded = std::numeric_limits<int64_t>::max();

// The file's 56-byte header, little-endian as the host (boards and hosts
// of a run are little-endian: docs/protocol.md 1).
struct Header {
  char magic[8];
  uint32_t version;
  uint32_t node_id;
  uint64_t task_hash;
  int64_t from;   // the state is the one after computing this round (-1: before any)
  int64_t to;     // valid for a restart at R with from < R <= to
  uint64_t state_bytes;
  uint64_t checksum;  // FNV-1a-64 of the state bytes
};
static_assert(sizeof(Header) == 56);

uint64_t TaskHash(const codec::TaskSpec& task) {
  flatbuffers::FlatBufferBuilder fbb(1024);
  codec::EncodeWelcome(fbb, task, 1000);
  return Fnv1a64({fbb.GetBufferPointer(), fbb.GetSize()});
}

// mkdir -p with POSIX calls: std::filesystem would add about 0.5 MiB of
// code to the static node, all of it resident.
bool MakeDirectories(const std::string& dir) {
  for (size_t at = 1; at <= dir.size(); ++at) {
    if (at < dir.size() && dir[at] != '/') continue;
    const std::string prefix = dir.substr(0, at);
    if (mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) return false;
  }
  struct stat info {};
  return stat(dir.c_str(), &info) == 0 && S_ISDIR(info.st_mode);
}

// Writes every piece whole (a regular file takes each write at once; the
// loop only covers a short write).
bool WriteAll(int fd, const iovec* pieces, int count) {
  for (int i = 0; i < count; ++i) {
    const auto* at = static_cast<const uint8_t*>(pieces[i].iov_base);
    for (size_t left = pieces[i].iov_len; left > 0;) {
      const ssize_t n = write(fd, at, left);
      if (n <= 0) return false;
      at += n;
      left -= static_cast<size_t>(n);
    }
  }
  return true;
}

}  // namespace

Status NodeStateStore::Open(const std::string& dir, uint32_t node_id, NodeRuntime& runtime, uint32_t checkpoint_every) {
  runtime_ = nullptr;
  if (dir.empty()) return Status::Ok();
  uint64_t bytes = 0;
  for (const auto& part : runtime.persistent_state()) bytes += part.size();
  if (bytes == 0) return Status::Ok();
  if (!MakeDirectories(dir)) {
    return Status::Error(StatusCode::kUnavailable, "--state-dir %s: cannot create it: %s", dir.c_str(),
                         std::strerror(errno));
  }
  const std::string base = dir + "/node-" + std::to_string(node_id);
  paths_[kBefore] = base + ".before";
  paths_[kCheckpoint] = base + ".checkpoint";
  paths_[kAfter] = base + ".after";
  temporary_path_ = base + ".tmp";
  runtime_ = &runtime;
  node_id_ = node_id;
  checkpoint_every_ = checkpoint_every;
  task_hash_ = TaskHash(runtime.task());
  state_bytes_ = bytes;
  return Status::Ok();
}

Status NodeStateStore::Write(File file, int64_t from, int64_t to) {
  const auto parts = runtime_->persistent_state();
  uint64_t checksum = kFnvOffsetBasis;
  for (const auto& part : parts) checksum = Fnv1a64(part, checksum);
  Header header{.magic = {}, .version = kVersion, .node_id = node_id_, .task_hash = task_hash_, .from = from,
                .to = to, .state_bytes = state_bytes_, .checksum = checksum};
  std::memcpy(header.magic, kMagic, sizeof(kMagic));
  iovec pieces[1 + std::tuple_size_v<decltype(parts)>];
  pieces[0] = {&header, sizeof(header)};
  int count = 1;
  for (const auto& part : parts) {
    if (!part.empty()) pieces[count++] = {part.data(), part.size()};
  }
  const int fd = open(temporary_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return Status::Error(StatusCode::kUnavailable, "cannot write %s: %s", temporary_path_.c_str(), std::strerror(errno));
  }
  const bool written = WriteAll(fd, pieces, count);
  // The copy a crash resumes from goes to the disk now; the others need
  // only outlive the process.
  const bool synced = file == kBefore || fdatasync(fd) == 0;
  close(fd);
  if (!written || !synced || rename(temporary_path_.c_str(), paths_[file].c_str()) != 0) {
    return Status::Error(StatusCode::kUnavailable, "cannot write %s: %s", paths_[file].c_str(), std::strerror(errno));
  }
  return Status::Ok();
}

Status NodeStateStore::BeforeRound(uint32_t round) {
  if (!active()) return Status::Ok();
  EDGEFL_RETURN_IF_ERROR(Write(kBefore, last_computed_, round));
  // The latest checkpoint a crash could resume from lies in (last computed, round].
  if (checkpoint_every_ > 0) {
    const int64_t boundary = static_cast<int64_t>(round / checkpoint_every_) * checkpoint_every_;
    if (boundary > last_computed_ && boundary != checkpoint_boundary_) {
      EDGEFL_RETURN_IF_ERROR(Write(kCheckpoint, last_computed_, round));
      checkpoint_boundary_ = boundary;
    }
  }
  return Status::Ok();
}

Status NodeStateStore::Leave() {
  if (!active()) return Status::Ok();
  return Write(kAfter, last_computed_, kUnbounded);
}

bool NodeStateStore::Load(uint32_t round) {
  for (const std::string& path : paths_) {
    std::vector<uint8_t> bytes;
    const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    struct stat info {};
    if (fstat(fd, &info) == 0 && info.st_size >= static_cast<off_t>(sizeof(Header))) {
      bytes.resize(static_cast<size_t>(info.st_size));
      if (read(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) bytes.clear();
    }
    close(fd);
    Header header;
    if (bytes.size() < sizeof(header)) continue;
    std::memcpy(&header, bytes.data(), sizeof(header));
    const std::span<const uint8_t> state(bytes.data() + sizeof(header), bytes.size() - sizeof(header));
    if (std::memcmp(header.magic, kMagic, sizeof(kMagic)) != 0 || header.version != kVersion ||
        header.node_id != node_id_ || header.task_hash != task_hash_ || header.state_bytes != state_bytes_ ||
        state.size() != state_bytes_ || Fnv1a64(state) != header.checksum) {
      EDGEFL_LOG_WARN("%s is not this node's saved state for this task: ignored", path.c_str());
      continue;
    }
    if (!(header.from < static_cast<int64_t>(round) && static_cast<int64_t>(round) <= header.to)) continue;
    size_t at = 0;
    for (const auto& part : runtime_->persistent_state()) {
      std::memcpy(part.data(), state.data() + at, part.size());
      at += part.size();
    }
    last_computed_ = header.from;
    EDGEFL_LOG_INFO("restored this node's state after round %lld from %s", static_cast<long long>(header.from),
                    path.c_str());
    return true;
  }
  return false;
}

void NodeStateStore::Joined(uint32_t first_round, bool new_coordinator) {
  if (!active()) return;
  // A fresh process holds the state of round 0; one that has computed
  // first_round or later, for another coordinator, holds a state from after it.
  const bool fresh = last_computed_ < 0;
  const bool rewound = new_coordinator && last_computed_ >= static_cast<int64_t>(first_round);
  if (fresh ? first_round == 0 : !rewound) return;
  if (!Load(first_round)) {
    EDGEFL_LOG_WARN("no saved state of this node is valid at round %u (in the state dir %s): its error memory, "
                    "moments and control variate start from zero, so the model will differ from an uninterrupted "
                    "run's",
                    first_round, paths_[kBefore].c_str());
    for (const auto& part : runtime_->persistent_state()) std::fill(part.begin(), part.end(), uint8_t{0});
    last_computed_ = -1;
  }
}

}  // namespace edgefl
