// WriteFileAtomically: a file that is either its old content or the whole
// new one, whenever the process dies or the power goes. The bytes go to
// `<path>.tmp`, which is flushed to the disk (fdatasync) and renamed over
// `path`; then the folder is flushed, so that the rename survives too. A
// `.tmp` left by a crash is overwritten by the next write. For the run
// folder's model, checkpoint, config and summary. POSIX only.
#pragma once

#include <cstdint>
#include <cstdio>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace edgefl {

// Writes the parts one after another as the new content of `path`.
Status WriteFileAtomically(const std::string& path, std::initializer_list<std::span<const uint8_t>> parts);
Status WriteFileAtomically(const std::string& path, std::string_view text);

// Flushes an open file's written bytes to the disk (fdatasync).
Status SyncFile(std::FILE* file, const std::string& path);

// Reads the whole of `path`.
Status ReadWholeFile(const std::string& path, std::vector<uint8_t>* out);

}  // namespace edgefl
