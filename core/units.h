// Parsing of sizes and rates written by people: "4MiB", "512k", "1e6".
#pragma once

#include <cstdint>
#include <string_view>

namespace edgefl {

// Bytes with an optional suffix: B, KiB/MiB/GiB (1024^n), kB/MB/GB (1000^n),
// or k/M/G meaning KiB/MiB/GiB. Returns false on anything else or overflow.
bool ParseByteSize(std::string_view text, uint64_t* bytes);

}  // namespace edgefl
