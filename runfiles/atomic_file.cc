#include "runfiles/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

namespace edgefl {
namespace {

Status Errno(const char* what, const std::string& path) {
  return Status::Error(StatusCode::kInvalidArgument, "cannot %s %s: %s", what, path.c_str(), std::strerror(errno));
}

Status WriteAll(int fd, std::span<const uint8_t> bytes, const std::string& path) {
  while (!bytes.empty()) {
    const ssize_t n = ::write(fd, bytes.data(), bytes.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write", path);
    bytes = bytes.subspan(static_cast<size_t>(n));
  }
  return Status::Ok();
}

// fsync on the folder makes a rename in it durable.
Status SyncFolderOf(const std::string& path) {
  const std::filesystem::path parent = std::filesystem::path(path).parent_path();
  const std::string folder = (parent.empty() ? std::filesystem::path(".") : parent).string();
  const int fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open the folder", folder);
  const int synced = ::fsync(fd);
  ::close(fd);
  return synced == 0 ? Status::Ok() : Errno("flush the folder", folder);
}

}  // namespace

Status WriteFileAtomically(const std::string& path, std::initializer_list<std::span<const uint8_t>> parts) {
  const std::string temporary = path + ".tmp";
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Errno("create", temporary);
  Status s;
  for (const auto part : parts) {
    s = WriteAll(fd, part, temporary);
    if (!s.ok()) break;
  }
  if (s.ok() && ::fdatasync(fd) != 0) s = Errno("flush", temporary);
  if (::close(fd) != 0 && s.ok()) s = Errno("close", temporary);
  if (s.ok() && std::rename(temporary.c_str(), path.c_str()) != 0) s = Errno("rename into place", path);
  if (!s.ok()) {
    ::unlink(temporary.c_str());
    return s;
  }
  return SyncFolderOf(path);
}

Status WriteFileAtomically(const std::string& path, std::string_view text) {
  return WriteFileAtomically(path, {std::span(reinterpret_cast<const uint8_t*>(text.data()), text.size())});
}

Status SyncFile(std::FILE* file, const std::string& path) {
  if (std::fflush(file) != 0) return Errno("write", path);
  if (::fdatasync(::fileno(file)) != 0) return Errno("flush", path);
  return Status::Ok();
}

Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* out) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Errno("open", path);
  out->clear();
  struct stat info = {};
  if (::fstat(fd, &info) == 0 && info.st_size > 0) out->reserve(static_cast<size_t>(info.st_size));
  uint8_t buffer[1 << 16];
  for (;;) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const Status s = Errno("read", path);
      ::close(fd);
      return s;
    }
    if (n == 0) break;
    out->insert(out->end(), buffer, buffer + n);
  }
  ::close(fd);
  return Status::Ok();
}

}  // namespace edgefl
