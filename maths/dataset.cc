#include "maths/dataset.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>

#include "core/rng.h"

namespace edgefl {
namespace {

constexpr DatasetInfo kDatasets[] = {
    // UCI optical recognition of handwritten digits, 8x8 pixels in 0..16
    // (the copy Debian ships with python3-sklearn; CC BY 4.0).
    {"digits", "digits.csv", 1797, 64, 10, 1.0f / 16.0f},
};

// The random stream of the partition, apart from every node and round stream.
constexpr uint64_t kPartitionStream = 0xDA7A;

void Shuffle(std::vector<uint32_t>& v, Rng& rng) {
  for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[rng.Below(static_cast<uint32_t>(i))]);
}

}  // namespace

const DatasetInfo* FindDataset(const char* name) {
  for (const DatasetInfo& info : kDatasets) {
    if (std::strcmp(info.name, name) == 0) return &info;
  }
  return nullptr;
}

std::vector<std::string> DataSearchPath(const std::string& data_dir) {
  std::vector<std::string> path;
  if (!data_dir.empty()) path.push_back(data_dir);
  if (const char* env = std::getenv("EDGEFL_DATA_DIR"); env != nullptr && env[0] != '\0') path.emplace_back(env);
  path.emplace_back("/usr/local/share/edgefl/data");
  path.emplace_back("/usr/share/edgefl/data");
  return path;
}

Status LoadDataset(const char* name, const std::string& data_dir, Dataset* out) {
  const DatasetInfo* info = FindDataset(name);
  if (info == nullptr) return Status::Error(StatusCode::kInvalidArgument, "objective.dataset = \"%s\": unknown data set (known: digits)", name);
  std::ifstream file;
  std::string tried;
  for (const std::string& dir : DataSearchPath(data_dir)) {
    const std::string path = dir + "/" + info->file;
    file.open(path);
    if (file) break;
    file.clear();
    tried += (tried.empty() ? "" : ", ") + path;
  }
  if (!file.is_open()) {
    return Status::Error(StatusCode::kInvalidArgument,
                         "data set \"%s\" not found (tried %s); scripts/setup.sh installs it, or pass --data-dir", name,
                         tried.c_str());
  }
  out->info = info;
  out->features.assign(size_t{info->samples} * info->features, 0.0f);
  out->labels.assign(info->samples, 0);
  std::string line;
  uint32_t row = 0;
  while (std::getline(file, line)) {
    if (line.empty()) continue;
    if (row >= info->samples) {
      return Status::Error(StatusCode::kInvalidArgument, "%s: more than %u samples", info->file, info->samples);
    }
    const char* p = line.c_str();
    for (uint32_t column = 0; column <= info->features; ++column) {
      char* end = nullptr;
      const double value = std::strtod(p, &end);
      if (end == p || !std::isfinite(value)) {
        return Status::Error(StatusCode::kInvalidArgument, "%s line %u: column %u is not a number", info->file, row + 1,
                             column + 1);
      }
      if (column == info->features) {
        if (value < 0 || value >= info->classes || value != std::floor(value)) {
          return Status::Error(StatusCode::kInvalidArgument, "%s line %u: label %g is not a class in 0..%u",
                               info->file, row + 1, value, info->classes - 1);
        }
        out->labels[row] = static_cast<uint8_t>(value);
      } else {
        out->features[size_t{row} * info->features + column] = static_cast<float>(value) * info->feature_scale;
        if (*end != ',') {
          return Status::Error(StatusCode::kInvalidArgument, "%s line %u: expected %u columns", info->file, row + 1,
                               info->features + 1);
        }
        ++end;
      }
      p = end;
    }
    ++row;
  }
  if (row != info->samples) {
    return Status::Error(StatusCode::kInvalidArgument, "%s: %u samples, expected %u", info->file, row, info->samples);
  }
  return Status::Ok();
}

Partition MakePartition(const codec::ObjectiveSpec& spec, std::span<const uint8_t> labels, uint32_t classes,
                        uint64_t seed, uint32_t nodes) {
  Rng rng(DeriveSeed(seed, kPartitionStream));
  std::vector<uint32_t> order(labels.size());
  for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  Shuffle(order, rng);
  const auto test_count = static_cast<size_t>(std::llround(spec.test_fraction * static_cast<double>(order.size())));
  Partition partition;
  partition.test.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(test_count));
  std::sort(partition.test.begin(), partition.test.end());
  partition.shards.assign(nodes, {});
  const std::span<const uint32_t> train(order.data() + test_count, order.size() - test_count);

  if (spec.partition == wire::PartitionKind::Iid) {
    for (size_t i = 0; i < train.size(); ++i) partition.shards[i % nodes].push_back(train[i]);
  } else {
    // Per class: proportions p ~ Dirichlet(alpha) over the nodes (as
    // normalised Gamma(alpha) draws), then the class's samples are dealt by
    // the cumulative proportions.
    std::vector<double> weights(nodes);
    for (uint32_t c = 0; c < classes; ++c) {
      std::vector<uint32_t> members;
      for (uint32_t s : train) {
        if (labels[s] == c) members.push_back(s);
      }
      double total = 0;
      for (double& w : weights) total += (w = rng.Gamma(spec.dirichlet_alpha));
      double cumulative = 0;
      size_t start = 0;
      for (uint32_t n = 0; n < nodes; ++n) {
        cumulative += weights[n] / total;
        const size_t end = n + 1 == nodes ? members.size()
                                          : std::min(members.size(), static_cast<size_t>(std::llround(cumulative * static_cast<double>(members.size()))));
        for (size_t i = start; i < end; ++i) partition.shards[n].push_back(members[i]);
        start = std::max(start, end);
      }
    }
  }
  // No shard may be empty: take one sample from the largest for each.
  for (auto& shard : partition.shards) {
    if (!shard.empty()) continue;
    auto largest = std::max_element(partition.shards.begin(), partition.shards.end(),
                                    [](const auto& a, const auto& b) { return a.size() < b.size(); });
    shard.push_back(largest->back());
    largest->pop_back();
  }
  for (auto& shard : partition.shards) std::sort(shard.begin(), shard.end());
  return partition;
}

}  // namespace edgefl
