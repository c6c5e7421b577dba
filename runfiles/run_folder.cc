#include "runfiles/run_folder.h"

#include "runfiles/audit_trail.h"
#include "runfiles/update_log.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace edgefl {
namespace {

constexpr int kMaxFolderAttempts = 1000;
constexpr const char* kRunFiles[] = {kMetricsFile, kNodesFile, kSummaryFile, kModelFile, kCheckpointFile, kAuditFile, kUpdateLogFile};

}  // namespace

std::string ExistingRunFile(const std::string& dir) {
  for (const char* file : {kMetricsFile, kNodesFile}) {
    uint64_t rows = 0;
    if (CountRows(dir + "/" + file, &rows).ok() && rows > 0) return file;
  }
  std::error_code ec;
  if (std::filesystem::exists(dir + "/" + kCheckpointFile, ec)) return kCheckpointFile;
  return "";
}

Status MakeFreshFolder(const std::string& base, std::string* made) {
  std::error_code ec;
  const std::filesystem::path parent = std::filesystem::path(base).parent_path();
  if (!parent.empty()) std::filesystem::create_directories(parent, ec);
  if (ec) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot create %s: %s", parent.c_str(), ec.message().c_str());
  }
  // mkdir either creates the folder or fails with EEXIST, atomically: two
  // runs started in the same second get one folder each.
  for (int attempt = 1; attempt <= kMaxFolderAttempts; ++attempt) {
    const std::string path = attempt == 1 ? base : base + "-" + std::to_string(attempt);
    if (::mkdir(path.c_str(), 0777) == 0) {
      *made = path;
      return Status::Ok();
    }
    if (errno != EEXIST) {
      return Status::Error(StatusCode::kInvalidArgument, "cannot create %s: %s", path.c_str(), std::strerror(errno));
    }
  }
  return Status::Error(StatusCode::kInvalidArgument, "cannot create %s: it and %d numbered folders beside it exist",
                       base.c_str(), kMaxFolderAttempts - 1);
}

Status RefuseExistingRun(const std::string& dir, const std::string& file) {
  return Status::Error(StatusCode::kInvalidArgument,
                       "%s already holds a run (%s): continue it with --resume %s, or start afresh there with "
                       "--overwrite",
                       dir.c_str(), file.c_str(), dir.c_str());
}

Status ClearRun(const std::string& dir) {
  for (const char* file : kRunFiles) {
    for (const std::string& path : {dir + "/" + file, dir + "/" + file + ".tmp"}) {
      std::error_code ec;
      std::filesystem::remove(path, ec);
      if (ec) {
        return Status::Error(StatusCode::kInvalidArgument, "cannot remove %s: %s", path.c_str(),
                             ec.message().c_str());
      }
    }
  }
  return Status::Ok();
}

Status KeepRows(const std::string& path, uint32_t rounds, bool one_row_per_round) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    if (rounds == 0 && errno == ENOENT) return Status::Ok();
    return Status::Error(StatusCode::kInvalidArgument, "cannot read %s: %s", path.c_str(), std::strerror(errno));
  }
  std::string line;
  uint64_t keep = 0;          // bytes of the header and the rows kept
  uint64_t line_number = 0;
  uint32_t next_round = 0;    // one_row_per_round: the round the next row must have
  while (std::getline(file, line)) {
    ++line_number;
    if (file.eof()) break;    // a torn last line: no newline
    if (line_number > 1) {
      char* end = nullptr;
      const unsigned long round = std::strtoul(line.c_str(), &end, 10);
      if (end == line.c_str() || *end != ',') {
        return Status::Error(StatusCode::kMalformed, "%s line %llu is not a row of a round", path.c_str(),
                             static_cast<unsigned long long>(line_number));
      }
      if (round >= rounds) break;
      if (one_row_per_round && round != next_round) {
        return Status::Error(StatusCode::kMalformed, "%s line %llu is round %lu where round %u was expected",
                             path.c_str(), static_cast<unsigned long long>(line_number), round, next_round);
      }
      ++next_round;
    }
    keep += line.size() + 1;
  }
  if (keep == 0 && rounds > 0) return Status::Error(StatusCode::kMalformed, "%s has no header line", path.c_str());
  if (one_row_per_round && next_round < rounds) {
    return Status::Error(StatusCode::kMalformed, "%s holds rows for %u rounds, the checkpoint for %u", path.c_str(),
                         next_round, rounds);
  }
  file.close();
  if (::truncate(path.c_str(), static_cast<off_t>(keep)) != 0) {
    return Status::Error(StatusCode::kInvalidArgument, "cannot cut %s back to round %u: %s", path.c_str(), rounds,
                         std::strerror(errno));
  }
  return Status::Ok();
}

Status CountRows(const std::string& path, uint64_t* rows) {
  *rows = 0;
  std::ifstream file(path, std::ios::binary);
  if (!file) return Status::Ok();
  std::string line;
  uint64_t lines = 0;
  while (std::getline(file, line)) lines += file.eof() ? 0 : 1;
  *rows = lines > 0 ? lines - 1 : 0;
  return Status::Ok();
}

}  // namespace edgefl
