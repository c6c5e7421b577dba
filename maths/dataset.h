// Data sets a node or coordinator learns from, read from local disk at
// Init (never in the round loop), and the deterministic split of their
// samples into a held-out test set and one training shard per node. The
// coordinator computes the split (it draws Gamma variates through libm,
// whose last bits may differ between hosts) and sends each node its shard
// in Welcome.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"
#include "schemas/codec/task_spec.h"

namespace edgefl {

struct DatasetInfo {
  const char* name;
  const char* file;        // CSV: `features` numbers then the label, one sample a line
  uint32_t samples;
  uint32_t features;
  uint32_t classes;
  float feature_scale;     // features are multiplied by this on load
};

// nullptr for an unknown name.
const DatasetInfo* FindDataset(const char* name);

// Where data files are looked for, in order: `data_dir` if not empty, then
// $EDGEFL_DATA_DIR, /usr/local/share/edgefl/data (scripts/setup.sh puts
// them there), /usr/share/edgefl/data.
std::vector<std::string> DataSearchPath(const std::string& data_dir);

struct Dataset {
  const DatasetInfo* info = nullptr;
  std::vector<float> features;  // samples x features, row-major, scaled
  std::vector<uint8_t> labels;
};

// Loads the whole file, checking every line (count, numbers, label range).
Status LoadDataset(const char* name, const std::string& data_dir, Dataset* out);

// Test set and per-node training shards, as sample indices.
struct Partition {
  std::vector<uint32_t> test;
  std::vector<std::vector<uint32_t>> shards;
};

// Shuffles the samples with the run seed, holds out test_fraction of them,
// and deals the rest to `nodes` shards: IID (round robin) or by class with
// Dirichlet(alpha) proportions per class (smaller alpha: more skew). Every
// shard gets at least one sample.
Partition MakePartition(const codec::ObjectiveSpec& spec, std::span<const uint8_t> labels, uint32_t classes,
                        uint64_t seed, uint32_t nodes);

}  // namespace edgefl
